package rules

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/pullmedic/pullmedic/pkg/account"
)

// IAMSecrets: the execution role may read the secrets ECS fetches before start.
var IAMSecrets = Rule{
	ID:       "iam.secrets",
	Title:    "execution role may not read the task's secrets",
	Severity: High,
	Summary:  "The execution role may read the task's secrets and registry credentials (secretsmanager:GetSecretValue / ssm:GetParameters, kms:Decrypt for customer keys)",
	Remediation: "Allow the execution role to read the secret: aws iam put-role-policy --role-name ROLE --policy-name task-secrets " +
		`--policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"SECRET_ARN"}]}'`,
	Needs: []account.Source{account.SrcTaskDefinition},
	Check: checkSecrets,
}

// secretRef is one secret a container names.
type secretRef struct {
	container, use, valueFrom string
}

// secretRefs lists the secrets of the containers: repository credentials,
// environment secrets and log-driver secret options.
func secretRefs(cs []containerImage) []secretRef {
	var refs []secretRef
	for _, c := range cs {
		if c.Def == nil {
			continue
		}
		if rc := c.Def.RepositoryCredentials; rc != nil {
			refs = append(refs, secretRef{c.Name, "repositoryCredentials", aws.ToString(rc.CredentialsParameter)})
		}
		for _, s := range c.Def.Secrets {
			refs = append(refs, secretRef{c.Name, "secret " + aws.ToString(s.Name), aws.ToString(s.ValueFrom)})
		}
		if lc := c.Def.LogConfiguration; lc != nil {
			for _, s := range lc.SecretOptions {
				refs = append(refs, secretRef{c.Name, "log option " + aws.ToString(s.Name), aws.ToString(s.ValueFrom)})
			}
		}
	}
	return refs
}

// secretCheck is one permission a secret needs. approximate: the resource
// is a KMS alias, not the key IAM evaluates, so a denial is not proven.
type secretCheck struct {
	pullCheck
	approximate bool
}

func checkSecrets(f *account.Facts) Finding {
	refs := secretRefs(containerImages(f))
	if len(refs) == 0 {
		return Finding{Status: Skip, Message: "no container uses secrets or repositoryCredentials"}
	}
	j, stop := newRoleJudge(f, account.SrcSecrets)
	if stop != nil {
		return *stop
	}
	for _, ref := range refs {
		checks, err := secretChecks(f, ref.valueFrom)
		if err != nil {
			return Finding{Status: Error, Message: fmt.Sprintf("%s of container %s: %v", ref.use, ref.container, err)}
		}
		for _, c := range checks {
			res, st := j.check(c.pullCheck)
			if st == Pass {
				continue
			}
			if c.approximate {
				st = Warn
			}
			keepWorst(&j.worst, Finding{Status: st,
				Message: fmt.Sprintf("Execution role %s may not %s, needed for %s of container %s (%s).", j.arn, c.pullCheck, ref.use, ref.container, decisionText(res)),
				Advice: j.advice(res, c.pullCheck, fmt.Sprintf(`aws iam put-role-policy --role-name %s --policy-name task-secrets --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"%s","Resource":"%s"}]}'`,
					roleName(j.arn), c.action, c.resource)),
			})
		}
	}
	return j.finding(fmt.Sprintf("Execution role %s may read the %d secret(s) the task uses.", j.arn, len(refs)))
}

// secretChecks lists the permissions reading one valueFrom needs: a Secrets
// Manager ARN (optionally with :json-key:stage:version), an SSM parameter ARN
// or an SSM parameter name in the task's account and region.
func secretChecks(f *account.Facts, valueFrom string) ([]secretCheck, error) {
	if valueFrom == "" {
		return nil, fmt.Errorf("empty valueFrom")
	}
	var checks []secretCheck
	var kmsKey, region, acct string
	if arnField(valueFrom, 2) == "secretsmanager" {
		parts := strings.SplitN(valueFrom, ":", 8)
		secretARN := strings.Join(parts[:min(len(parts), 7)], ":")
		s := findSecret(f, secretARN)
		if s == nil {
			return nil, fmt.Errorf("secret %s not found in the collected facts", secretARN)
		}
		checks = append(checks, secretCheck{pullCheck: pullCheck{"secretsmanager:GetSecretValue", firstNonEmpty(aws.ToString(s.ARN), secretARN)}})
		kmsKey, region, acct = aws.ToString(s.KmsKeyId), arnField(secretARN, 3), arnField(secretARN, 4)
	} else {
		paramARN := valueFrom
		if arnField(valueFrom, 2) != "ssm" {
			paramARN = fmt.Sprintf("arn:%s:ssm:%s:%s:parameter/%s", partition(f), taskRegion(f), taskAccount(f), strings.TrimPrefix(valueFrom, "/"))
		}
		p := findParameter(f, paramARN)
		if p == nil {
			return nil, fmt.Errorf("SSM parameter %s not found in the collected facts", paramARN)
		}
		checks = append(checks, secretCheck{pullCheck: pullCheck{"ssm:GetParameters", paramARN}})
		kmsKey, region, acct = aws.ToString(p.KeyId), arnField(paramARN, 3), arnField(paramARN, 4)
	}
	if key, alias, ok := customerKey(f, kmsKey, region, acct); ok {
		checks = append(checks, secretCheck{pullCheck: pullCheck{"kms:Decrypt", key}, approximate: alias})
	}
	return checks, nil
}

// findParameter finds an SSM parameter by ARN or by its name.
func findParameter(f *account.Facts, paramARN string) *ssmtypes.ParameterMetadata {
	_, name, _ := strings.Cut(paramARN, ":parameter")
	for i, p := range f.Secrets.SSMParameters {
		n := aws.ToString(p.Name)
		if aws.ToString(p.ARN) == paramARN || (name != "" && (n == name || "/"+n == name)) {
			return &f.Secrets.SSMParameters[i]
		}
	}
	return nil
}

// customerKey returns the ARN of a customer managed KMS key (ok false for
// none or an AWS managed alias/aws/... key). alias reports that the ARN is a
// custom alias's: the key behind it is unknown.
func customerKey(f *account.Facts, keyID, region, acct string) (arn string, alias, ok bool) {
	switch {
	case keyID == "" || strings.Contains(keyID, "alias/aws/"):
		return "", false, false
	case strings.HasPrefix(keyID, "arn:"):
		return keyID, strings.Contains(keyID, ":alias/"), true
	case strings.HasPrefix(keyID, "alias/"):
		return fmt.Sprintf("arn:%s:kms:%s:%s:%s", partition(f), region, acct, keyID), true, true
	}
	return fmt.Sprintf("arn:%s:kms:%s:%s:key/%s", partition(f), region, acct, keyID), false, true
}
