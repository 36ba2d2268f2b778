package rules

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/policy"
)

// trustPolicyForECS is the trust policy an execution role needs.
const trustPolicyForECS = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// IAMExecutionRole: the task has an execution role ECS can assume when it needs one.
var IAMExecutionRole = Rule{
	ID:       "iam.execution-role",
	Title:    "no usable execution role",
	Severity: Critical,
	Summary:  "A task pulling from private ECR (or using awslogs, secrets or repositoryCredentials) has an execution role that ecs-tasks.amazonaws.com may assume",
	Remediation: "Give the task definition an execution role trusted by ecs-tasks.amazonaws.com: " +
		"aws ecs register-task-definition ... --execution-role-arn arn:aws:iam::ACCOUNT:role/ecsTaskExecutionRole",
	Needs: []account.Source{account.SrcTaskDefinition},
	Check: checkExecutionRole,
}

func checkExecutionRole(f *account.Facts) Finding {
	td := f.TaskDefinition()
	if td == nil {
		return taskDefinitionNotFound(f)
	}
	// A task definition that names an execution role has the agent pull
	// with it on EC2 too: then it is judged as on Fargate.
	ec2 := instanceRoleStandsIn(f) && aws.ToString(td.ExecutionRoleArn) == ""
	neededFor := executionRoleUses(containerImages(f), ec2)
	if len(neededFor) == 0 && ec2 {
		return Finding{Status: Skip, Message: "on EC2 the container instance role pulls images and ships logs, and no container uses secrets or repositoryCredentials, so no execution role is needed (iam.ecr-pull judges the instance role)"}
	}
	if len(neededFor) == 0 {
		return Finding{Status: Skip, Message: "no container pulls from private ECR or uses awslogs, secrets or repositoryCredentials, so no execution role is needed"}
	}
	ev := map[string]any{"neededFor": neededFor, "taskDefinition": aws.ToString(td.TaskDefinitionArn)}
	arn := aws.ToString(td.ExecutionRoleArn)
	if arn == "" {
		return Finding{Status: Fail, Evidence: ev,
			Message: fmt.Sprintf("Task definition %s has no execution role, but needs one for %s.", aws.ToString(td.TaskDefinitionArn), neededFor[0]),
			Advice: fmt.Sprintf("Register a new revision with an execution role: aws ecs register-task-definition --family %s --execution-role-arn arn:%s:iam::%s:role/ecsTaskExecutionRole ... (plus the current definition), then update the service.",
				aws.ToString(td.Family), partition(f), taskAccount(f)),
		}
	}
	ev["executionRoleArn"] = arn
	if fd, failed := readFailed(f, account.SrcRole); failed {
		return fd
	}
	name := roleName(arn)
	role := f.Role(arn)
	if role == nil {
		return Finding{Status: Fail, Evidence: ev,
			Message: fmt.Sprintf("Execution role %s was not found in the account; ECS cannot assume it.", arn),
			Advice: fmt.Sprintf("Create it and grant it the pull permissions: aws iam create-role --role-name %s --assume-role-policy-document '%s' && aws iam attach-role-policy --role-name %s --policy-arn %s",
				name, trustPolicyForECS, name, ExecutionRolePolicyARN),
		}
	}
	trust, err := policy.Parse(aws.ToString(role.AssumeRolePolicyDocument))
	if err != nil {
		return Finding{Status: Error, Evidence: ev, Message: fmt.Sprintf("the trust policy of role %s cannot be read: %v", arn, err)}
	}
	trust.Name = "trust policy"
	res := trust.Evaluate(policy.Request{Action: "sts:AssumeRole", Principal: ecsTasksPrincipal})
	ev["trust"] = res
	switch {
	case res.Decision != policy.Allow:
		return Finding{Status: Fail, Evidence: ev,
			Message: fmt.Sprintf("The trust policy of execution role %s does not let %s assume it (%s).", arn, ecsTasksPrincipal, decisionText(res)),
			Advice:  fmt.Sprintf("aws iam update-assume-role-policy --role-name %s --policy-document '%s'", name, trustPolicyForECS),
		}
	case res.Conditional:
		// Conditions such as aws:SourceAccount are AWS's recommended hardening; note them, don't fail.
		ev["condition"] = string(trust.Find(res.Statement).Condition)
		return Finding{Status: Pass, Evidence: ev,
			Message: fmt.Sprintf("Execution role %s exists and %s may assume it under the condition of statement %s.", arn, ecsTasksPrincipal, res.Statement)}
	}
	return Finding{Status: Pass, Evidence: ev,
		Message: fmt.Sprintf("Execution role %s exists and %s may assume it.", arn, ecsTasksPrincipal)}
}

// executionRoleUses lists why the task needs an execution role, failed
// container first. On EC2 the container instance role pulls images and ships
// awslogs when there is no execution role; secrets always need one.
func executionRoleUses(cs []containerImage, ec2 bool) []string {
	var uses []string
	for _, c := range cs {
		if !ec2 && c.RefErr == nil && c.Ref.IsECR() {
			uses = append(uses, "pulling private ECR image "+c.Image)
		}
		if c.Def == nil {
			continue
		}
		if lc := c.Def.LogConfiguration; !ec2 && lc != nil && lc.LogDriver == ecstypes.LogDriverAwslogs {
			uses = append(uses, "the awslogs log driver of container "+c.Name)
		}
		if len(c.Def.Secrets) > 0 || (c.Def.LogConfiguration != nil && len(c.Def.LogConfiguration.SecretOptions) > 0) {
			uses = append(uses, "the secrets of container "+c.Name)
		}
		if c.Def.RepositoryCredentials != nil {
			uses = append(uses, "the repositoryCredentials of container "+c.Name)
		}
	}
	return uses
}
