package rules

import (
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/pullmedic/pullmedic/pkg/account"
)

func TestIAMECRPull(t *testing.T) {
	const (
		custom    = "arn:aws:iam::111122223333:policy/custom"
		boundary  = "arn:aws:iam::111122223333:policy/boundary"
		ownRepos  = `{"Statement":[{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"},{"Sid":"Own","Effect":"Allow","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"arn:aws:ecr:*:111122223333:repository/*"}]}`
		tokenOnly = `{"Statement":{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}}`
		denyPull  = `{"Statement":{"Sid":"NoPull","Effect":"Deny","Action":"ecr:BatchGet*","Resource":"*"}}`
		logsOnly  = `{"Statement":{"Effect":"Allow","Action":"logs:*","Resource":"*"}}`
	)
	attach := func(arn string) func(*account.Facts) {
		return func(f *account.Facts) {
			ixRole(f).AttachedManagedPolicies = append(ixRole(f).AttachedManagedPolicies, iamtypes.AttachedPolicy{PolicyArn: aws.String(arn)})
		}
	}
	withBoundary := func(doc string) func(*account.Facts) {
		return ixThen(ixManaged(boundary, doc), func(f *account.Facts) {
			ixRole(f).PermissionsBoundary = &iamtypes.AttachedPermissionsBoundary{PermissionsBoundaryArn: aws.String(boundary)}
		})
	}
	runRuleCases(t, IAMECRPull, []ruleCase{
		{name: "AWS managed execution policy passes without being collected", facts: ixFacts, status: Pass, msg: "may pull " + ixImage,
			check: evidenceHas(`"ecr:BatchGetImage on ` + ixRepoARN + `":{"decision":"Allow","policy":"` + ExecutionRolePolicyARN)},
		{name: "URL-encoded inline policy passes", facts: with(ixFacts, ixInline(url.QueryEscape(ownRepos))), status: Pass, msg: ixRoleARN,
			check: evidenceHas(`"statement":"Own"`)},
		{name: "collected customer policy passes", facts: with(ixFacts, ixThen(ixInline(tokenOnly), ixManaged(custom, ownRepos), attach(custom))), status: Pass},
		{name: "missing pull actions fail", facts: with(ixFacts, ixInline(tokenOnly)), status: Fail,
			msg:   "may not ecr:BatchGetImage on " + ixRepoARN + " (no policy allows it)",
			check: adviceHas("aws iam attach-role-policy --role-name ecsTaskExecutionRole --policy-arn " + ExecutionRolePolicyARN + ".")},
		{name: "missing token fails", facts: with(ixFacts, ixInline(logsOnly)), status: Fail, msg: "may not ecr:GetAuthorizationToken on *"},
		{name: "explicit deny in another policy fails", facts: with(ixFacts, ixThen(ixManaged(custom, denyPull), attach(custom))), status: Fail,
			msg: "explicitly denied by " + custom + ", statement NoPull", check: adviceHas("Remove or narrow statement NoPull in " + custom + ": an explicit Deny wins")},
		{name: "boundary without ECR fails", facts: with(ixFacts, withBoundary(logsOnly)), status: Fail,
			msg: "not allowed by its permissions boundary " + boundary, check: adviceHas("Allow ecr:GetAuthorizationToken on * in the role's permissions boundary " + boundary + ", which caps what its policies grant: aws iam create-policy-version --policy-arn " + boundary + " ")},
		{name: "boundary allowing ECR passes", facts: with(ixFacts, withBoundary(`{"Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*"}}`)), status: Pass},
		{name: "conditional allow warns", facts: with(ixFacts, ixInline(`{"Statement":{"Sid":"Vpc","Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpc":"vpc-1"}}}}`)),
			status: Warn, msg: "only under a condition"},
		{name: "cross-account repository outside the grant fails, failed container first",
			facts:  with(ixFacts, ixThen(ixInline(ownRepos), ixAddContainer("base", ixXImage), func(f *account.Facts) { f.Task.FailedContainer = "base" })),
			status: Fail, msg: "may not ecr:BatchGetImage on " + ixXRepo},
		{name: "uncollected customer policy is an error", facts: with(ixFacts, attach(custom)), status: Error, msg: "policy " + custom + " not collected"},
		{name: "unreadable inline policy is an error", facts: with(ixFacts, ixInline("{oops")), status: Error, msg: "inline policy pull: policy: invalid JSON"},
		{name: "public image skips", facts: with(ixFacts, ixSetImage("nginx:1.27")), status: Skip, msg: "no container image is in private ECR"},
		{name: "no execution role skips to iam.execution-role", facts: with(ixFacts, func(f *account.Facts) { f.ECS.TaskDefinitions[0].ExecutionRoleArn = nil }),
			status: Skip, msg: "iam.execution-role judges whether it needs one"},
		{name: "missing role skips to iam.execution-role", facts: with(ixFacts, func(f *account.Facts) { f.IAM.RoleDetailList = nil }), status: Skip, msg: "not found"},
		{name: "failed policy read is an error", facts: failedRead(ixFacts, account.SrcRolePolicies), status: Error, msg: "iam:role-policies: AccessDenied"},
		{name: "task definition not collected is an error", facts: with(ixFacts, func(f *account.Facts) { f.ECS.TaskDefinitions = nil }), status: Error, msg: "not found"},
	})
}

// withExecRole gives the network fixtures' execution role api-exec one inline policy.
func withExecRole(doc string) func(*account.Facts) {
	return func(f *account.Facts) {
		f.IAM.RoleDetailList = []iamtypes.RoleDetail{{Arn: aws.String("arn:aws:iam::111122223333:role/api-exec"), RoleName: aws.String("api-exec"),
			RolePolicyList: []iamtypes.PolicyDetail{{PolicyName: aws.String("pull"), PolicyDocument: aws.String(doc)}}}}
	}
}

func TestIAMRoleConditions(t *testing.T) {
	const (
		// The usual data-perimeter statement: ECR only through the VPC's endpoints.
		onlyEndpoints = `{"Statement":[{"Effect":"Allow","Action":["ecr:*","secretsmanager:GetSecretValue","ssm:GetParameters"],"Resource":"*"},` +
			`{"Sid":"Perimeter","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:SourceVpc":"vpc-1"},"Null":{"aws:SourceVpc":"false"}}},` +
			`{"Sid":"NoInternet","Effect":"Deny","Action":["ecr:*","secretsmanager:*"],"Resource":"*","Condition":{"Null":{"aws:SourceVpce":"true"}}}]}`
		ownVPC = `{"Statement":[{"Sid":"Vpc","Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpc":"vpc-1","aws:PrincipalAccount":"111122223333"}}}]}`
	)
	t.Run("iam.ecr-pull", func(t *testing.T) {
		runRuleCases(t, IAMECRPull, []ruleCase{
			{name: "endpoint-only role passes through the endpoints", facts: with(endpointVPC, withExecRole(onlyEndpoints)), status: Pass},
			{name: "endpoint-only role fails through NAT", facts: with(natVPC, withExecRole(onlyEndpoints)), status: Fail,
				msg: "may not ecr:GetAuthorizationToken on * (explicitly denied by inline policy pull, statement NoInternet, whose condition holds for this pull (aws:SourceVpce absent))"},
			{name: "allow in the VPC passes through its endpoints", facts: with(endpointVPC, withExecRole(ownVPC)), status: Pass,
				check: evidenceHas(`"statement":"Vpc"`)},
			{name: "allow in the VPC fails through NAT", facts: with(natVPC, withExecRole(ownVPC)), status: Fail, msg: "no policy allows it"},
		})
	})
	t.Run("iam.secrets", func(t *testing.T) {
		secrets := func(f *account.Facts) {
			withSecrets(f)
			f.Secrets.SecretsManager = []smtypes.SecretListEntry{{ARN: aws.String("arn:aws:secretsmanager:eu-west-1:111122223333:secret:db"), Name: aws.String("db")}}
			f.Secrets.SSMParameters = []ssmtypes.ParameterMetadata{{Name: aws.String("/prod/key")}}
		}
		runRuleCases(t, IAMSecrets, []ruleCase{
			{name: "secrets through the NAT gateway are denied", facts: with(natVPC, ixThen(secrets, withExecRole(onlyEndpoints))), status: Fail,
				msg: "statement NoInternet, whose condition holds for this pull (aws:SourceVpce absent)"},
			{name: "SSM through NAT is outside the NoInternet statement", facts: with(natVPC, ixThen(secrets, withExecRole(onlyEndpoints), func(f *account.Facts) {
				f.ECS.TaskDefinitions[0].ContainerDefinitions[0].Secrets = f.ECS.TaskDefinitions[0].ContainerDefinitions[0].Secrets[1:]
			})), status: Pass},
		})
	})
}
