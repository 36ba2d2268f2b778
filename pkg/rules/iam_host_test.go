package rules

import (
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/pullmedic/pullmedic/pkg/account"
)

const (
	ixInstanceRole    = "arn:aws:iam::111122223333:role/ecsInstanceRole"
	ixInstanceProfile = "arn:aws:iam::111122223333:instance-profile/ecsInstanceRole"
)

// ixOnHostNoExecRole puts the task on EC2 without an execution role; the
// instance profile's role holds policy doc.
func ixOnHostNoExecRole(doc string) func(*account.Facts) {
	return func(f *account.Facts) {
		onHost("subnet-app")(f)
		f.ECS.TaskDefinitions[0].ExecutionRoleArn = nil
		ixContainer(f).LogConfiguration = nil
		f.IAM.RoleDetailList = append(f.IAM.RoleDetailList, iamtypes.RoleDetail{
			Arn: aws.String(ixInstanceRole), RoleName: aws.String("ecsInstanceRole"),
			InstanceProfileList: []iamtypes.InstanceProfile{{Arn: aws.String(ixInstanceProfile)}},
			RolePolicyList:      []iamtypes.PolicyDetail{{PolicyName: aws.String("host"), PolicyDocument: aws.String(url.QueryEscape(doc))}},
		})
	}
}

func TestIAMOnHost(t *testing.T) {
	const (
		pull     = `{"Statement":{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"*"}}`
		ecsOnly  = `{"Statement":{"Effect":"Allow","Action":["ecs:RegisterContainerInstance","ecs:Poll","ecs:Submit*"],"Resource":"*"}}`
		pulledBy = "Instance role " + ixInstanceRole + " (instance profile ecsInstanceRole of i-host)"
	)
	runRuleCases(t, IAMECRPull, []ruleCase{
		{name: "instance role that may pull passes, named", facts: with(ixFacts, ixOnHostNoExecRole(pull)), status: Pass, msg: pulledBy + " may pull " + ixImage,
			check: evidenceHas(`"instanceRoleArn":"`+ixInstanceRole, `"principal":"instance role (the task definition has no execution role)"`)},
		{name: "instance role without ECR permissions fails, named", facts: with(ixFacts, ixOnHostNoExecRole(ecsOnly)), status: Fail,
			msg: pulledBy + " may not ecr:GetAuthorizationToken on *", check: adviceHas(InstanceRolePolicyARN)},
		{name: "execution role on EC2 is still the one judged", facts: with(ixFacts, onHost("subnet-app")), status: Pass, msg: "Execution role " + ixRoleARN},
		{name: "instance without a profile fails", facts: with(ixFacts, ixThen(ixOnHostNoExecRole(pull), func(f *account.Facts) { hostInstance(f).IamInstanceProfile = nil })),
			status: Fail, msg: "Instance i-host has no instance profile"},
		{name: "profile's role not collected is an error", facts: with(ixFacts, ixThen(ixOnHostNoExecRole(pull), func(f *account.Facts) { f.IAM.RoleDetailList = f.IAM.RoleDetailList[:1] })),
			status: Error, msg: "the role of instance profile " + ixInstanceProfile},
		{name: "role read failed is an error", facts: failedRead(with(ixFacts, ixOnHostNoExecRole(pull)), account.SrcRole), status: Error, msg: "AccessDenied"},
		{name: "Fargate without execution role still skips", facts: with(ixFacts, func(f *account.Facts) { f.ECS.TaskDefinitions[0].ExecutionRoleArn = nil }),
			status: Skip, msg: "iam.execution-role judges"},
		{name: "external host without execution role skips to iam.execution-role", facts: with(ixFacts, ixThen(ixOnHostNoExecRole(pull), func(f *account.Facts) {
			f.Task.LaunchType = string(ecstypes.LaunchTypeExternal)
		})), status: Skip, msg: "iam.execution-role judges"},
	})
	runRuleCases(t, IAMExecutionRole, []ruleCase{
		{name: "EC2 without execution role skips: the instance role pulls", facts: with(ixFacts, ixOnHostNoExecRole(pull)), status: Skip, msg: "iam.ecr-pull judges the instance role"},
		{name: "EC2 secrets still need one", facts: with(ixFacts, ixThen(ixOnHostNoExecRole(pull), func(f *account.Facts) {
			ixContainer(f).Secrets = []ecstypes.Secret{{Name: aws.String("DB"), ValueFrom: aws.String(ixSecret)}}
		})), status: Fail, msg: "needs one for the secrets of container api"},
		{name: "external host pulling from ECR needs one", facts: with(ixFacts, ixThen(ixOnHostNoExecRole(pull), func(f *account.Facts) {
			f.Task.LaunchType = string(ecstypes.LaunchTypeExternal)
		})), status: Fail, msg: "needs one for pulling private ECR image"},
	})
}
