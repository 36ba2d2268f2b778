package rules

import (
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/pullmedic/pullmedic/pkg/account"
)

// ImagePullThroughCache: an image that a pull-through cache has not cached
// yet can be imported on this pull.
var ImagePullThroughCache = Rule{
	ID:       "image.pull-through-cache",
	Title:    "pull-through cache cannot create the image",
	Severity: High,
	Summary: "An image under a pull-through cache prefix that is not cached yet can be imported: the rule's upstream credential secret exists, " +
		"and the execution role may ecr:BatchImportUpstreamImage (and ecr:CreateRepository before the first pull)",
	Remediation: "Grant the execution role ecr:CreateRepository and ecr:BatchImportUpstreamImage on the cache prefix's repositories, " +
		"and keep the rule's upstream credential secret.",
	Needs: []account.Source{account.SrcPullThroughCache},
	Check: checkPullThroughCache,
}

// cachePull is an image that the pull must fetch through a cache rule.
type cachePull struct {
	c        containerImage
	rule     *ecrtypes.PullThroughCacheRule
	newRepo  bool // the cache repository does not exist yet: this is its first pull
	repoARN  string
	resource string // the ARN pattern a grant for the rule's prefix names
}

func checkPullThroughCache(f *account.Facts) Finding {
	var pulls []cachePull
	for _, c := range ecrImages(containerImages(f)) {
		rule := cacheRuleOf(f, c.Ref)
		if rule == nil {
			continue
		}
		exists := f.Repository(account.RepoOf(c.Ref)) != nil
		if exists && findImage(f.Images(account.RepoOf(c.Ref)), c.Ref) != nil {
			continue // cached: the pull is served from the repository
		}
		if fd, failed := readFailed(f, account.SrcRepository, account.SrcImages); failed {
			return fd
		}
		pulls = append(pulls, cachePull{c: c, rule: rule, newRepo: !exists, repoARN: repositoryARN(f, c.Ref), resource: prefixARN(f, c, rule)})
	}
	if len(pulls) == 0 {
		return Finding{Status: Skip, Message: "no image of the task waits on a pull-through cache: each private ECR image is cached or under no cache rule"}
	}
	ev := map[string]any{"pulls": pullEvidence(pulls)}
	findings := []Finding{}
	for _, p := range pulls {
		findings = append(findings, cacheCredential(f, p))
	}
	findings = append(findings, importPermissions(f, pulls, ev)...)
	fd := worstOf(findings)
	fd.Evidence = ev
	if fd.Status == Pass {
		cs := make([]containerImage, len(pulls))
		for i, p := range pulls {
			cs[i] = p.c
		}
		fd.Message = fmt.Sprintf("%s can be imported on this pull: the execution role may create the cache repository and import the image, and the upstream credentials exist.", imageList(cs))
	}
	return fd
}

// importPermissions judges what the pulling principal needs for an uncached
// image. ECR authorizes the import with the puller's own permissions:
// BatchGetImage of a pull-through cache repository depends on
// ecr:BatchImportUpstreamImage and ecr:CreateRepository (Service
// Authorization Reference, Amazon Elastic Container Registry, BatchGetImage),
// CreateRepository only "if the repository storing the cached images doesn't
// already exist" (Amazon ECR User Guide, "IAM permissions required to sync an
// upstream registry"). The registry permissions policy may grant both too;
// pullmedic judges the identity policies, as iam.ecr-pull does.
func importPermissions(f *account.Facts, pulls []cachePull, ev map[string]any) []Finding {
	j, stop := newRoleJudge(f)
	if stop != nil {
		if stop.Status == Skip {
			stop.Message = "the import permissions cannot be judged: " + stop.Message
		}
		return []Finding{*stop}
	}
	ev["executionRoleArn"], ev["decisions"] = j.arn, j.decisions
	var out []Finding
	for _, p := range pulls {
		checks := []pullCheck{{"ecr:BatchImportUpstreamImage", p.repoARN}}
		why := fmt.Sprintf("%s is not cached yet, and %s imports it with the puller's permissions", p.c.Image, cacheRuleLabel(p.rule))
		if p.newRepo {
			checks = append([]pullCheck{{"ecr:CreateRepository", p.repoARN}}, checks...)
			why = fmt.Sprintf("repository %s does not exist yet, and %s creates it on the first pull with the puller's permissions", p.c.Ref.Repository, cacheRuleLabel(p.rule))
		}
		for _, c := range checks {
			res, st := j.check(c)
			if st == Pass {
				continue
			}
			msg := fmt.Sprintf("Execution role %s may not %s (%s): %s.", j.arn, c, decisionText(res), why)
			if st == Warn {
				msg = fmt.Sprintf("Execution role %s may be unable to %s: the policy has a condition that cannot be checked (%s); %s.", j.arn, c, decisionText(res), why)
			}
			grant := fmt.Sprintf(`Let the role import through the cache: aws iam put-role-policy --role-name %s --policy-name ecr-pull-through-cache --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:CreateRepository","ecr:BatchImportUpstreamImage"],"Resource":"%s"}]}'`,
				roleName(j.arn), p.resource)
			out = append(out, Finding{Status: st, Message: msg, Advice: j.advice(res, c, grant)})
		}
	}
	return out
}

// cacheCredential judges the rule's upstream credential secret: ECR signs in
// to the upstream registry with it on every import (credentialArn, Amazon ECR
// API Reference, PullThroughCacheRule).
func cacheCredential(f *account.Facts, p cachePull) Finding {
	id := aws.ToString(p.rule.CredentialArn)
	if id == "" {
		return Finding{Status: Pass}
	}
	s := findSecret(f, id)
	switch {
	case s == nil && f.Err(account.SrcSecrets) != "":
		return Finding{Status: Error, Message: "could not be evaluated: " + f.Err(account.SrcSecrets)}
	case s == nil:
		return Finding{Status: Fail,
			Message: fmt.Sprintf("The upstream credential secret %s of %s does not exist, so ECR cannot sign in upstream to import %s.", id, cacheRuleLabel(p.rule), p.c.Image),
			Advice: fmt.Sprintf("Create a secret whose name starts with ecr-pullthroughcache/ holding the upstream's username and accessToken, and point the rule at it: "+
				"aws ecr update-pull-through-cache-rule --ecr-repository-prefix %s --credential-arn NEW_SECRET_ARN --region %s",
				aws.ToString(p.rule.EcrRepositoryPrefix), p.c.Ref.ECRRegion),
		}
	case s.DeletedDate != nil:
		return Finding{Status: Fail,
			Message: fmt.Sprintf("The upstream credential secret %s of %s is scheduled for deletion (%s), so ECR cannot sign in upstream to import %s.",
				id, cacheRuleLabel(p.rule), s.DeletedDate.UTC().Format(time.RFC3339), p.c.Image),
			Advice: fmt.Sprintf("Cancel the deletion: aws secretsmanager restore-secret --secret-id %s", aws.ToString(s.ARN)),
		}
	}
	return Finding{Status: Pass}
}

// worstOf picks the finding to report: a proven fail first, then a check
// that could not be made, then a warn, then a check that did not apply.
func worstOf(fs []Finding) Finding {
	for _, st := range []Status{Fail, Error, Warn, Skip} {
		for _, fd := range fs {
			if fd.Status == st {
				return fd
			}
		}
	}
	return Finding{Status: Pass}
}

// prefixARN is the repository ARN pattern of the rule's prefix (all
// repositories for ROOT), what a grant for the cache names.
func prefixARN(f *account.Facts, c containerImage, rule *ecrtypes.PullThroughCacheRule) string {
	prefix := strings.TrimSuffix(aws.ToString(rule.EcrRepositoryPrefix), "/") + "/"
	if prefix == "ROOT/" {
		prefix = ""
	}
	return fmt.Sprintf("arn:%s:ecr:%s:%s:repository/%s*", partition(f), c.Ref.ECRRegion, c.Ref.ECRAccount, prefix)
}

func pullEvidence(pulls []cachePull) []map[string]any {
	out := make([]map[string]any, len(pulls))
	for i, p := range pulls {
		out[i] = map[string]any{"image": p.c.Image, "container": p.c.Name, "repository": p.repoARN, "repositoryExists": !p.newRepo,
			"cacheRule": aws.ToString(p.rule.EcrRepositoryPrefix), "upstream": firstNonEmpty(aws.ToString(p.rule.UpstreamRegistryUrl), string(p.rule.UpstreamRegistry))}
		if cred := aws.ToString(p.rule.CredentialArn); cred != "" {
			out[i]["credentialArn"] = cred
		}
	}
	return out
}
