package rules

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
)

// ImageRegistryAuth: a private registry outside ECR gets working credentials.
var ImageRegistryAuth = Rule{
	ID:       "image.registry-auth",
	Title:    "private registry credentials missing",
	Severity: High,
	Summary:  "A private non-ECR registry has repositoryCredentials and the secret exists; a pull-through cache can reach its upstream",
	Remediation: "Store the registry credentials in Secrets Manager and name the secret in the container's " +
		`repositoryCredentials: aws secretsmanager create-secret --name registry-creds --secret-string '{"username":"USER","password":"TOKEN"}'`,
	Check: checkRegistryAuth,
}

// registryAuthRejected phrases: the registry refused the pull for lack of (valid) credentials.
var registryAuthRejected = []string{"unauthorized", "no basic auth credentials", "denied", "authentication required"}

func checkRegistryAuth(f *account.Facts) Finding {
	cs := containerImages(f)
	if reasonHas(f, "UnableToGetUpstreamImageException") {
		return upstreamFailure(f, cs)
	}
	// Secret retrieval failures also say "denied"; they are iam.secrets' to judge.
	rejected := reasonHas(f, registryAuthRejected...) &&
		!reasonHas(f, "ResourceInitializationError", "unable to retrieve secret", "unable to pull secrets")
	result := Finding{Status: Skip, Message: "no image comes from a private registry outside ECR"}
	for _, c := range cs {
		if c.RefErr != nil || c.Ref.IsECR() {
			continue
		}
		var creds string
		if c.Def != nil && c.Def.RepositoryCredentials != nil {
			creds = aws.ToString(c.Def.RepositoryCredentials.CredentialsParameter)
		}
		failedHere := rejected && isFailedContainer(f, c) && !publicRegistry(c.Ref)
		if creds == "" && !failedHere {
			continue // nothing says this registry needs credentials
		}
		if c.Def == nil { // its repositoryCredentials are unknown
			if fd, failed := readFailed(f, account.SrcTaskDefinition); failed {
				return fd
			}
			return taskDefinitionNotFound(f)
		}
		fd := judgeRegistryCredentials(f, c, creds, failedHere)
		if fd.Status == Error {
			return fd
		}
		if result.Status == Skip || worse(fd.Status, result.Status) {
			result = fd
		}
	}
	return result
}

// judgeRegistryCredentials checks one private-registry container's credentials.
func judgeRegistryCredentials(f *account.Facts, c containerImage, creds string, rejected bool) Finding {
	ev := map[string]any{"image": c.Image, "container": c.Name, "registry": registryHost(c.Ref)}
	if rejected {
		ev["reason"] = f.Task.Failure
	}
	if creds == "" {
		return Finding{Status: Fail, Evidence: ev,
			Message: fmt.Sprintf("Registry %s refused the pull of %s, which has no repositoryCredentials.", registryHost(c.Ref), c.label()),
			Advice: fmt.Sprintf(`Store the credentials (aws secretsmanager create-secret --name %s-registry --secret-string '{"username":"USER","password":"TOKEN"}') `+
				`and set "repositoryCredentials": {"credentialsParameter": "SECRET_ARN"} on container %s in a new task definition revision.`, strings.ReplaceAll(registryHost(c.Ref), ".", "-"), c.Name),
		}
	}
	ev["credentialsParameter"] = creds
	if fd, failed := readFailed(f, account.SrcSecrets); failed {
		return fd
	}
	if findSecret(f, creds) == nil {
		return Finding{Status: Fail, Evidence: ev,
			Message: fmt.Sprintf("Secret %s named by the repositoryCredentials of container %s does not exist.", creds, c.Name),
			Advice:  fmt.Sprintf("Create the secret or fix credentialsParameter: aws secretsmanager describe-secret --secret-id %s", creds),
		}
	}
	if rejected {
		ev["source"] = "stop reason"
		return Finding{Status: Fail, Evidence: ev,
			Message: fmt.Sprintf("Registry %s rejected the credentials in secret %s for %s.", registryHost(c.Ref), creds, c.label()),
			Advice:  fmt.Sprintf(`Put valid credentials in the secret: aws secretsmanager put-secret-value --secret-id %s --secret-string '{"username":"USER","password":"TOKEN"}'`, creds),
		}
	}
	return Finding{Status: Pass, Evidence: ev,
		Message: fmt.Sprintf("Container %s has repositoryCredentials and secret %s exists (its content cannot be checked).", c.Name, creds)}
}

// upstreamFailure: an ECR pull-through cache could not fetch from its upstream registry.
func upstreamFailure(f *account.Facts, cs []containerImage) Finding {
	ev := map[string]any{"source": "stop reason", "reason": f.Task.Failure}
	prefix := "PREFIX"
	for _, c := range cs {
		if c.RefErr == nil && c.Ref.IsECR() && isFailedContainer(f, c) {
			prefix, _, _ = strings.Cut(c.Ref.Repository, "/")
			ev["image"] = c.Image
			break
		}
	}
	return Finding{Status: Fail, Evidence: ev,
		Message: fmt.Sprintf("The ECR pull-through cache rule for prefix %s could not get the image from its upstream registry (missing or invalid upstream credentials, or the image does not exist upstream).", prefix),
		Advice: fmt.Sprintf("Check the rule and its credential secret (named ecr-pullthroughcache/...): aws ecr describe-pull-through-cache-rules --ecr-repository-prefixes %s; "+
			"fix it with aws ecr update-pull-through-cache-rule --ecr-repository-prefix %s --credential-arn SECRET_ARN, or aws ecr validate-pull-through-cache-rule --ecr-repository-prefix %s.", prefix, prefix, prefix),
	}
}

// publicRegistry: registries whose images pull without credentials
// (Docker Hub official images, ECR Public).
func publicRegistry(r event.ImageRef) bool {
	host := registryHost(r)
	return host == "public.ecr.aws" || (host == "docker.io" && strings.HasPrefix(r.Repository, "library/"))
}
