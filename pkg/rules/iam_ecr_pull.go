package rules

import (
	"fmt"
	"strings"

	"github.com/pullmedic/pullmedic/pkg/account"
)

// IAMECRPull: the execution role may pull the task's private ECR images.
var IAMECRPull = Rule{
	ID:       "iam.ecr-pull",
	Title:    "execution role may not pull from ECR",
	Severity: Critical,
	Summary:  "The execution role's policies allow ecr:GetAuthorizationToken on * and ecr:BatchGetImage, ecr:GetDownloadUrlForLayer on each image's repository",
	Remediation: "Attach the AWS managed execution policy to the execution role: " +
		"aws iam attach-role-policy --role-name ROLE --policy-arn " + ExecutionRolePolicyARN,
	Needs: []account.Source{account.SrcTaskDefinition},
	Check: checkECRPull,
}

func checkECRPull(f *account.Facts) Finding {
	images := ecrImages(containerImages(f))
	if len(images) == 0 {
		return Finding{Status: Skip, Message: "no container image is in private ECR"}
	}
	j, stop := newRoleJudge(f)
	if stop != nil {
		return *stop
	}
	checks := []pullCheck{{"ecr:GetAuthorizationToken", "*"}}
	for _, c := range images {
		repo := repositoryARN(f, c.Ref)
		checks = append(checks, pullCheck{"ecr:BatchGetImage", repo}, pullCheck{"ecr:GetDownloadUrlForLayer", repo})
	}
	for _, c := range checks {
		res, st := j.check(c)
		if st == Pass {
			continue
		}
		msg := fmt.Sprintf("Execution role %s may not %s (%s).", j.arn, c, decisionText(res))
		if st == Warn {
			msg = fmt.Sprintf("Execution role %s may be unable to %s: the policy has a condition that cannot be checked (%s).", j.arn, c, decisionText(res))
		}
		advice := j.advice(res, c, fmt.Sprintf("Grant the pull permissions: aws iam attach-role-policy --role-name %s --policy-arn %s.", roleName(j.arn), ExecutionRolePolicyARN))
		keepWorst(&j.worst, Finding{Status: st, Message: msg, Advice: advice})
	}
	return j.finding(fmt.Sprintf("Execution role %s may pull %s.", j.arn, imageList(images)))
}

// imageList names the images for a message.
func imageList(cs []containerImage) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Image
	}
	return strings.Join(names, ", ")
}
