package rules

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/pullmedic/pullmedic/pkg/account"
)

func TestIAMRepositoryPolicy(t *testing.T) {
	repoPolicy := func(repo, doc string) func(*account.Facts) {
		return func(f *account.Facts) { f.ECR.RepositoryPolicies = map[string]string{repo: doc} }
	}
	grant := func(principal, extra string) string {
		return `{"Version":"2012-10-17","Statement":[{"Sid":"Pull","Effect":"Allow","Principal":` + principal +
			`,"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]` + extra + `}]}`
	}
	cross := func(doc string) func() *account.Facts {
		if doc == "" {
			return with(ixFacts, ixSetImage(ixXImage))
		}
		return with(ixFacts, ixThen(ixSetImage(ixXImage), repoPolicy("444455556666/eu-west-1/shared/base", doc)))
	}
	runRuleCases(t, IAMRepositoryPolicy, []ruleCase{
		{name: "same account without policy passes", facts: ixFacts, status: Pass, msg: "let " + ixRoleARN + " pull",
			check: evidenceHas(`"` + ixRepoARN + `":"no repository policy"`)},
		{name: "same account deny fails", facts: with(ixFacts, repoPolicy("team/api", `{"Statement":{"Sid":"NoPull","Effect":"Deny","Principal":{"AWS":"`+ixRoleARN+`"},"Action":"ecr:*"}}`)),
			status: Fail, msg: "The repository policy of team/api denies ecr:BatchGetImage to " + ixRoleARN + " (statement NoPull)",
			check: adviceHas("aws ecr set-repository-policy --repository-name team/api --registry-id 111122223333")},
		{name: "conditional deny warns", facts: with(ixFacts, repoPolicy("team/api", `{"Statement":{"Sid":"Org","Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-1"}}}}`)),
			status: Warn, msg: `when the condition of statement Org holds: {"StringNotEquals":{"aws:PrincipalOrgID":"o-1"}}`},
		{name: "same account deny for someone else passes", facts: with(ixFacts, repoPolicy("team/api", `{"Statement":{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:role/ci"},"Action":"ecr:*"}}`)),
			status: Pass},
		{name: "cross account without policy fails", facts: cross(""), status: Fail,
			msg:   "Repository shared/base in account 444455556666 has no repository policy, so " + ixRoleARN + " of account 111122223333 cannot pull from it",
			check: adviceHas(`--registry-id 444455556666 --region eu-west-1 --policy-text '{"Version":"2012-10-17","Statement":[{"Sid":"AllowPull","Effect":"Allow","Principal":{"AWS":"` + ixRoleARN + `"}`)},
		{name: "cross account grant to the role passes", facts: cross(grant(`{"AWS":"`+ixRoleARN+`"}`, "")), status: Pass,
			check: evidenceHas(ixXRepo + ` ecr:GetDownloadUrlForLayer":"pass: allowed by repository policy of shared/base, statement Pull`)},
		{name: "cross account grant to the account root passes", facts: cross(grant(`{"AWS":["arn:aws:iam::111122223333:root"]}`, "")), status: Pass},
		{name: "cross account grant to everyone warns", facts: cross(grant(`"*"`, "")), status: Warn, msg: "grants ecr:BatchGetImage to every principal (statement Pull)"},
		{name: "cross account conditional grant warns with the condition", facts: cross(grant(`{"AWS":"*"}`, `,"Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}`)),
			status: Warn, msg: `only under the condition of statement Pull: {"StringEquals":{"aws:PrincipalOrgID":"o-1"}}`},
		{name: "cross account grant to another account fails", facts: cross(grant(`{"AWS":"999988887777"}`, "")), status: Fail,
			msg: "The repository policy of shared/base (account 444455556666) does not grant ecr:BatchGetImage to " + ixRoleARN},
		{name: "cross account grant missing the layer action fails",
			facts:  cross(`{"Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"ecr:BatchGetImage"}}`),
			status: Fail, msg: "does not grant ecr:GetDownloadUrlForLayer"},
		{name: "cross account without a role judges the account", facts: with(cross(grant(`{"AWS":"111122223333"}`, "")), func(f *account.Facts) { f.ECS.TaskDefinitions = nil }),
			status: Pass, msg: "let 111122223333 pull"},
		{name: "execution role given by name is expanded to its ARN", facts: with(cross(grant(`{"AWS":"`+ixRoleARN+`"}`, "")), func(f *account.Facts) {
			f.ECS.TaskDefinitions[0].ExecutionRoleArn = aws.String("ecsTaskExecutionRole")
		}), status: Pass, check: evidenceHas(`"principal":"` + ixRoleARN + `"`)},
		{name: "unreadable policy is an error", facts: cross("{not json"), status: Error, msg: "the repository policy of " + ixXRepo + " cannot be read"},
		{name: "cross account with the task definition unread is an error", facts: failedRead(with(cross(grant(`{"AWS":"`+ixRoleARN+`"}`, "")),
			func(f *account.Facts) { f.ECS.TaskDefinitions = nil }), account.SrcTaskDefinition), status: Error, msg: "ecs:task-definition: AccessDenied"},
		{name: "failed policy read is an error", facts: failedRead(ixFacts, account.SrcRepositoryPolicy), status: Error, msg: "ecr:repository-policy: AccessDenied"},
		{name: "public image skips", facts: with(ixFacts, ixSetImage("ghcr.io/acme/api:1")), status: Skip},
	})
}

func TestIAMRepositoryPolicyConditions(t *testing.T) {
	const (
		onlyVpce = `{"Statement":[{"Sid":"OnlyVpce","Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-ecr-dkr"}}}]}`
		fromVpce = `{"Statement":[{"Sid":"FromVpce","Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Condition":{"StringEquals":{"aws:SourceVpce":"vpce-ecr-dkr"}}}]}`
		ownAcct  = `{"Statement":[{"Sid":"Shop","Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Condition":{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}}]}`
	)
	// On the network fixtures the image is api, of the task's own account;
	// shared/base is in account 444455556666, so its key says so.
	own := func(doc string) func(*account.Facts) {
		return func(f *account.Facts) { f.ECR.RepositoryPolicies = map[string]string{"api": doc} }
	}
	shared := func(doc string) func(*account.Facts) {
		return ixThen(ixSetImage(ixXImage), func(f *account.Facts) {
			f.ECR.RepositoryPolicies = map[string]string{"444455556666/eu-west-1/shared/base": doc}
		})
	}
	runRuleCases(t, IAMRepositoryPolicy, []ruleCase{
		{name: "deny outside the endpoint fails a pull through NAT", facts: with(natVPC, own(onlyVpce)), status: Fail,
			msg: `The repository policy of api denies ecr:BatchGetImage to arn:aws:iam::111122223333:role/api-exec: the condition of statement OnlyVpce, {"StringNotEquals":{"aws:SourceVpce":"vpce-ecr-dkr"}}, holds for this pull (aws:SourceVpce absent): its calls to ecr.dkr leave through nat-1, not a VPC endpoint.`,
			check: both(adviceHas("Make the pull meet the condition of statement OnlyVpce"),
				evidenceHas(`"arn:aws:ecr:eu-west-1:111122223333:repository/api ecr:BatchGetImage":"fail: explicitly denied by repository policy of api, statement OnlyVpce, whose condition holds for this pull (aws:SourceVpce absent)"`))},
		{name: "deny outside the endpoint passes a pull through it", facts: with(endpointVPC, own(onlyVpce)), status: Pass},
		{name: "deny outside the endpoint passes a NAT path that uses the endpoint", facts: with(natWithEndpoints, own(onlyVpce)), status: Pass},
		{name: "deny outside the endpoint warns when the path is unknown", facts: with(ixFacts, func(f *account.Facts) {
			f.ECR.RepositoryPolicies = map[string]string{"team/api": onlyVpce}
		}), status: Warn, msg: "(not decidable from the facts: StringNotEquals aws:SourceVpce)"},
		{name: "cross-account grant from the endpoint passes a pull through it", facts: with(endpointVPC, shared(fromVpce)), status: Pass,
			check: evidenceHas(`pass: allowed by repository policy of shared/base, statement FromVpce, whose condition holds for this pull (aws:SourceVpce = \"vpce-ecr-dkr\")`)},
		{name: "cross-account grant from the endpoint fails a pull through NAT", facts: with(natVPC, shared(fromVpce)), status: Fail,
			msg: "does not grant ecr:BatchGetImage"},
		{name: "cross-account grant to everyone of the task's account passes", facts: with(natVPC, shared(ownAcct)), status: Pass},
	})
}
