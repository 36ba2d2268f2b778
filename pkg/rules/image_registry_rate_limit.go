package rules

import (
	"fmt"
	"regexp"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
)

// ImageRegistryRateLimit: no registry throttled the pull.
var ImageRegistryRateLimit = Rule{
	ID:       "image.registry-rate-limit",
	Title:    "registry rate limit reached",
	Severity: Medium,
	Summary:  "The pull was not throttled by a public registry (toomanyrequests, 429)",
	Remediation: "Pull public images through an ECR pull-through cache: aws ecr create-pull-through-cache-rule " +
		"--ecr-repository-prefix docker-hub --upstream-registry-url registry-1.docker.io --credential-arn SECRET_ARN",
	Check: checkRateLimit,
}

// rateLimited matches throttling stop reasons; 429 only as a whole word, so
// hex task IDs and digests do not match.
var rateLimited = regexp.MustCompile(`(?i)toomanyrequests|too many requests|pull rate limit|\b429\b`)

// upstream is an ECR pull-through cache upstream for a public registry.
type upstream struct {
	prefix, url     string
	needsCredential bool
}

// upstreams maps a registry host to its pull-through cache upstream.
var upstreams = map[string]upstream{
	"docker.io":       {"docker-hub", "registry-1.docker.io", true},
	"ghcr.io":         {"github", "ghcr.io", true},
	"quay.io":         {"quay", "quay.io", false},
	"public.ecr.aws":  {"ecr-public", "public.ecr.aws", false},
	"registry.k8s.io": {"k8s", "registry.k8s.io", false},
}

func checkRateLimit(f *account.Facts) Finding {
	public := firstOutsideECR(containerImages(f))
	if !rateLimited.MatchString(f.Task.Failure) {
		if public == nil {
			return Finding{Status: Skip, Message: "every image is in private ECR and the stop reason reports no throttling"}
		}
		return Finding{Status: Pass, Message: "The stop reason reports no registry throttling."}
	}
	ev := map[string]any{"source": "stop reason", "reason": f.Task.Failure}
	if public == nil {
		return Finding{Status: Fail, Evidence: ev,
			Message: "Amazon ECR throttled the image pull.",
			Advice:  "Stagger task launches (smaller deployment batches), or request a higher ECR API rate quota in Service Quotas.",
		}
	}
	ev["image"], ev["registry"] = public.Image, registryHost(public.Ref)
	return Finding{Status: Fail, Evidence: ev,
		Message: fmt.Sprintf("Registry %s throttled the pull of %s (rate limit).", registryHost(public.Ref), public.label()),
		Advice:  pullThroughAdvice(f, public.Ref),
	}
}

// firstOutsideECR returns the first container (the failed one comes first)
// whose image is not in private ECR, or nil.
func firstOutsideECR(cs []containerImage) *containerImage {
	for i, c := range cs {
		if c.RefErr == nil && !c.Ref.IsECR() {
			return &cs[i]
		}
	}
	return nil
}

// registryHost names Docker Hub "docker.io" also when the image names its
// API host (ParseImageRef already maps index.docker.io).
func registryHost(r event.ImageRef) string {
	if r.Registry == "registry-1.docker.io" {
		return "docker.io"
	}
	return r.Registry
}

func pullThroughAdvice(f *account.Facts, r event.ImageRef) string {
	up, ok := upstreams[registryHost(r)]
	if !ok {
		return fmt.Sprintf("Copy the image into a private ECR repository and pull it from there; %s is not a pull-through cache upstream.", r.Registry)
	}
	cmd := fmt.Sprintf("aws ecr create-pull-through-cache-rule --ecr-repository-prefix %s --upstream-registry-url %s", up.prefix, up.url)
	if up.needsCredential {
		cmd += fmt.Sprintf(" --credential-arn arn:%s:secretsmanager:%s:%s:secret:ecr-pullthroughcache/%s", partition(f), taskRegion(f), taskAccount(f), up.prefix)
	}
	return fmt.Sprintf("Pull through an ECR pull-through cache: %s; then use the image %s.dkr.ecr.%s.amazonaws.com/%s/%s in the task definition.",
		cmd, taskAccount(f), taskRegion(f), up.prefix, r.Repository+imageSuffix(r))
}

// imageSuffix is the ":tag" or "@digest" part of a reference.
func imageSuffix(r event.ImageRef) string {
	if r.Digest != "" {
		return "@" + r.Digest
	}
	return ":" + r.Tag
}
