package rules

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/pkg/account"
)

func TestIAMExecutionRole(t *testing.T) {
	publicOnly := ixThen(ixSetImage("nginx:1.27"), func(f *account.Facts) { ixContainer(f).LogConfiguration = nil })
	trust := func(doc string) func(*account.Facts) {
		return func(f *account.Facts) { ixRole(f).AssumeRolePolicyDocument = aws.String(doc) }
	}
	noRole := func(f *account.Facts) { f.ECS.TaskDefinitions[0].ExecutionRoleArn = nil }
	runRuleCases(t, IAMExecutionRole, []ruleCase{
		{name: "trusted role passes", facts: ixFacts, status: Pass, msg: "may assume it",
			check: evidenceHas(`"neededFor":["pulling private ECR image `+ixImage, `"decision":"Allow"`)},
		{name: "raw JSON trust with statement array passes", facts: with(ixFacts, trust(ixTrust)), status: Pass, msg: ixRoleARN},
		{name: "conditional trust passes with the condition noted",
			facts:  with(ixFacts, trust(`{"Statement":{"Effect":"Allow","Principal":{"Service":["ecs-tasks.amazonaws.com"]},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}}`)),
			status: Pass, msg: "under the condition of statement Statement[0]", check: evidenceHas("aws:SourceAccount")},
		{name: "public image without logs or secrets needs no role", facts: with(ixFacts, ixThen(publicOnly, noRole)), status: Skip, msg: "no execution role is needed"},
		{name: "missing executionRoleArn fails", facts: with(ixFacts, noRole), status: Fail, msg: "has no execution role, but needs one for pulling private ECR image",
			check: adviceHas("aws ecs register-task-definition --family api --execution-role-arn arn:aws:iam::111122223333:role/ecsTaskExecutionRole")},
		{name: "EC2 task pulls ECR with its instance role", facts: with(ixFacts, ixThen(noRole, func(f *account.Facts) { f.Task.LaunchType = "EC2" })),
			status: Skip, msg: "on EC2 the container instance role pulls images"},
		{name: "EC2 task with secrets needs a role", facts: with(ixFacts, ixThen(noRole, func(f *account.Facts) {
			f.Task.LaunchType = "EC2"
			ixContainer(f).Secrets = []ecstypes.Secret{{Name: aws.String("DB"), ValueFrom: aws.String(ixSecret)}}
		})), status: Fail, msg: "needs one for the secrets of container api"},
		{name: "secrets alone need a role", facts: with(ixFacts, ixThen(publicOnly, noRole, func(f *account.Facts) {
			ixContainer(f).Secrets = []ecstypes.Secret{{Name: aws.String("DB"), ValueFrom: aws.String(ixSecret)}}
		})), status: Fail, msg: "the secrets of container api"},
		{name: "repositoryCredentials alone need a role", facts: with(ixFacts, ixThen(publicOnly, noRole, func(f *account.Facts) {
			ixContainer(f).RepositoryCredentials = &ecstypes.RepositoryCredentials{CredentialsParameter: aws.String(ixSecret)}
		})), status: Fail, msg: "the repositoryCredentials of container api"},
		{name: "role that does not exist fails", facts: with(ixFacts, func(f *account.Facts) { f.IAM.RoleDetailList = nil }), status: Fail,
			msg: "Execution role " + ixRoleARN + " was not found", check: adviceHas("aws iam create-role --role-name ecsTaskExecutionRole")},
		{name: "trust for another service fails", facts: with(ixFacts, trust(`{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)),
			status: Fail, msg: "does not let ecs-tasks.amazonaws.com assume it (no policy allows it)",
			check: adviceHas("aws iam update-assume-role-policy --role-name ecsTaskExecutionRole")},
		{name: "explicit deny in trust fails", facts: with(ixFacts, trust(`{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"},{"Sid":"NoECS","Effect":"Deny","Principal":"*","Action":"sts:*"}]}`)),
			status: Fail, msg: "explicitly denied by trust policy, statement NoECS"},
		{name: "unreadable trust policy is an error", facts: with(ixFacts, trust(`{"Statement":`)), status: Error, msg: "trust policy of role " + ixRoleARN + " cannot be read"},
		{name: "failed role read is an error", facts: failedRead(ixFacts, account.SrcRole), status: Error, msg: "iam:role: AccessDenied"},
		{name: "failed task definition read is an error", facts: failedRead(ixFacts, account.SrcTaskDefinition), status: Error, msg: "ecs:task-definition: AccessDenied"},
		{name: "task definition not collected is an error", facts: with(ixFacts, func(f *account.Facts) { f.ECS.TaskDefinitions = nil }), status: Error, msg: "task definition " + ixTaskDef + " not found"},
	})
}
