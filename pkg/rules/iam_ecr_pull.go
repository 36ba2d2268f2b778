package rules

import (
	"fmt"
	"strings"

	"github.com/pullmedic/pullmedic/pkg/account"
)

// IAMECRPull: the execution role may pull the task's private ECR images.
var IAMECRPull = Rule{
	ID:       "iam.ecr-pull",
	Title:    "the pulling role may not pull from ECR",
	Severity: Critical,
	Summary:  "The execution role's policies (on EC2 without one, the instance role's) allow ecr:GetAuthorizationToken on * and ecr:BatchGetImage, ecr:GetDownloadUrlForLayer on each image's repository",
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
	j, stop := newPullJudge(f)
	if stop != nil {
		return *stop
	}
	grant := fmt.Sprintf("Grant the pull permissions: aws iam attach-role-policy --role-name %s --policy-arn %s.", roleName(j.arn), ExecutionRolePolicyARN)
	if _, onHost := j.worst.Evidence["instanceRoleArn"]; onHost {
		grant = fmt.Sprintf("Grant the instance role the pull permissions: aws iam attach-role-policy --role-name %s --policy-arn %s, or give the task definition an execution role that has them.", roleName(j.arn), InstanceRolePolicyARN)
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
		msg := fmt.Sprintf("%s may not %s (%s).", j.who, c, decisionText(res))
		if st == Warn {
			msg = fmt.Sprintf("%s may be unable to %s: the policy has a condition that cannot be checked (%s).", j.who, c, decisionText(res))
		}
		keepWorst(&j.worst, Finding{Status: st, Message: msg, Advice: j.advice(res, c, grant)})
	}
	return j.finding(fmt.Sprintf("%s may pull %s.", j.who, imageList(images)))
}

// imageList names the images for a message.
func imageList(cs []containerImage) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Image
	}
	return strings.Join(names, ", ")
}
