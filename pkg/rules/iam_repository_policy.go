package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/policy"
)

// pullActions are the repository-level actions an image pull performs.
var pullActions = []string{"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}

// IAMRepositoryPolicy: repository policies let the task's role pull.
var IAMRepositoryPolicy = Rule{
	ID:       "iam.repository-policy",
	Title:    "repository policy denies the pull",
	Severity: High,
	Summary:  "An image in another account's ECR is granted to the pulling role or its account by the repository policy; no repository policy denies the pull",
	Remediation: "Grant the pull in the repository policy (merged into the existing one): " +
		"aws ecr set-repository-policy --repository-name REPO --registry-id ACCOUNT --policy-text file://policy.json",
	Check: checkRepositoryPolicy,
}

func checkRepositoryPolicy(f *account.Facts) Finding {
	images := ecrImages(containerImages(f))
	if len(images) == 0 {
		return Finding{Status: Skip, Message: "no container image is in private ECR"}
	}
	// The pulling principal is the task definition's execution role.
	if fd, failed := readFailed(f, account.SrcRepositoryPolicy, account.SrcTaskDefinition); failed {
		return fd
	}
	who := pullingPrincipal(f)
	acct := taskAccount(f)
	principal, calls := principalKeys(f, who), newCallPath(f)
	checked := map[string]string{}
	worst := Finding{Status: Pass, Evidence: map[string]any{"principal": who, "repositories": checked},
		Message: fmt.Sprintf("The repository policies of %s let %s pull.", imageList(images), who)}
	for _, c := range images {
		repo, repoARN := c.Ref.Repository, repositoryARN(f, c.Ref)
		cross := c.Ref.ECRAccount != acct
		text := f.RepositoryPolicy(account.RepoOf(c.Ref))
		if text == "" {
			checked[repoARN] = "no repository policy"
			if cross {
				keepWorst(&worst, Finding{Status: Fail,
					Message: fmt.Sprintf("Repository %s in account %s has no repository policy, so %s of account %s cannot pull from it.", repo, c.Ref.ECRAccount, who, acct),
					Advice:  grantPullAdvice(c, who),
				})
			}
			continue
		}
		doc, err := policy.Parse(text)
		if err != nil {
			return Finding{Status: Error, Message: fmt.Sprintf("the repository policy of %s cannot be read: %v", repoARN, err)}
		}
		doc.Name = "repository policy of " + repo
		// The image calls go to the registry's ecr.dkr host.
		ctx := merged(principal, calls.keys("ecr.dkr", c.Ref.ECRRegion))
		for _, action := range pullActions {
			res := doc.Evaluate(policy.Request{Action: action, Resource: repoARN, Principal: who, Context: ctx})
			fd := judgeRepositoryGrant(doc, res, c, who, action, cross, calls.via("ecr.dkr", c.Ref.ECRRegion))
			checked[repoARN+" "+action] = string(fd.Status) + ": " + decisionText(res)
			keepWorst(&worst, fd)
		}
	}
	return worst
}

// judgeRepositoryGrant turns one decision into a finding. A Deny fails in any
// account; only a cross-account pull needs an explicit grant. via says how
// the pull leaves the task, which a decided condition may rest on.
func judgeRepositoryGrant(doc *policy.Document, res policy.Result, c containerImage, who, action string, cross bool, via string) Finding {
	st := doc.Find(res.Statement)
	switch {
	case res.Decision == policy.Deny:
		fd := Finding{Status: verdict(res),
			Message: fmt.Sprintf("The repository policy of %s denies %s to %s (statement %s).", c.Ref.Repository, action, who, res.Statement),
			Advice: fmt.Sprintf("Remove or narrow statement %s: aws ecr get-repository-policy --repository-name %s --registry-id %s, edit, then aws ecr set-repository-policy --repository-name %s --registry-id %s --policy-text file://policy.json.",
				res.Statement, c.Ref.Repository, c.Ref.ECRAccount, c.Ref.Repository, c.Ref.ECRAccount),
		}
		switch {
		case res.Conditional:
			fd.Message = fmt.Sprintf("The repository policy of %s denies %s to %s when the condition of statement %s holds: %s%s.", c.Ref.Repository, action, who, res.Statement, conditionText(st), undecidedNote(res))
		case st.HasCondition():
			fd.Message = fmt.Sprintf("The repository policy of %s denies %s to %s: the condition of statement %s, %s, holds for this pull (%s)%s",
				c.Ref.Repository, action, who, res.Statement, conditionText(st), strings.Join(res.Decided, ", "), pathNote(via))
			fd.Advice = fmt.Sprintf("Make the pull meet the condition of statement %s (for a VPC endpoint condition, pull through that endpoint: an ecr.dkr interface endpoint with private DNS, and the ecr.api and S3 endpoints), or narrow the statement: aws ecr get-repository-policy --repository-name %s --registry-id %s, edit, then aws ecr set-repository-policy --repository-name %s --registry-id %s --policy-text file://policy.json.",
				res.Statement, c.Ref.Repository, c.Ref.ECRAccount, c.Ref.Repository, c.Ref.ECRAccount)
		}
		return fd
	case !cross:
		return Finding{Status: Pass}
	case res.Decision == policy.ImplicitDeny:
		return Finding{Status: Fail,
			Message: fmt.Sprintf("The repository policy of %s (account %s) does not grant %s to %s.", c.Ref.Repository, c.Ref.ECRAccount, action, who),
			Advice:  grantPullAdvice(c, who),
		}
	case res.Conditional:
		return Finding{Status: Warn,
			Message: fmt.Sprintf("The repository policy of %s grants %s to %s only under the condition of statement %s: %s%s.", c.Ref.Repository, action, who, res.Statement, conditionText(st), undecidedNote(res))}
	case st.Principal.Anyone() && len(res.Decided) == 0:
		// A grant to "*" scoped by a condition the facts decide is proven for this pull.
		return Finding{Status: Warn,
			Message: fmt.Sprintf("The repository policy of %s grants %s to every principal (statement %s), not to %s by name.", c.Ref.Repository, action, res.Statement, who)}
	}
	return Finding{Status: Pass}
}

// pullingPrincipal is who pulls: the execution role, else the task's account.
func pullingPrincipal(f *account.Facts) string {
	if td := f.TaskDefinition(); td != nil {
		if arn := aws.ToString(td.ExecutionRoleArn); strings.HasPrefix(arn, "arn:") {
			return arn
		} else if arn != "" {
			return fmt.Sprintf("arn:%s:iam::%s:role/%s", partition(f), taskAccount(f), arn)
		}
	}
	return taskAccount(f)
}

// conditionText is a statement's Condition on one line, for a message.
func conditionText(st *policy.Statement) string {
	var b bytes.Buffer
	if json.Compact(&b, st.Condition) != nil {
		return string(st.Condition)
	}
	return b.String()
}

// pathNote adds how the pull leaves the task to a message, when known.
func pathNote(via string) string {
	if via == "" {
		return "."
	}
	return ": " + via + "."
}

func grantPullAdvice(c containerImage, who string) string {
	return fmt.Sprintf(`Add this statement to the repository policy (set-repository-policy replaces the whole policy): aws ecr set-repository-policy --repository-name %s --registry-id %s --region %s --policy-text '{"Version":"2012-10-17","Statement":[{"Sid":"AllowPull","Effect":"Allow","Principal":{"AWS":"%s"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}'`,
		c.Ref.Repository, c.Ref.ECRAccount, c.Ref.ECRRegion, who)
}
