package rules

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/pkg/account"
)

func TestHostAgent(t *testing.T) {
	version := func(v string) func(*account.Facts) {
		return func(f *account.Facts) { hostCI(f).VersionInfo.AgentVersion = aws.String(v) }
	}
	secret := func(from string) func(*account.Facts) {
		return func(f *account.Facts) {
			ixContainer(f).Secrets = []ecstypes.Secret{{Name: aws.String("DB"), ValueFrom: aws.String(from)}}
		}
	}
	host := onHost("subnet-app")
	runRuleCases(t, HostAgent, []ruleCase{
		{name: "Fargate skips", facts: ixFacts, status: Skip, msg: "Fargate"},
		{name: "connected current agent passes", facts: with(ixFacts, host), status: Pass,
			msg: "The ECS agent 1.87.0 on instance i-host (container instance ci-1) is connected and supports ECR authentication with the task execution role (1.16.0+)"},
		{name: "execution-role ECR auth needs 1.16.0", facts: with(ixFacts, ixThen(host, version("1.15.2"))), status: Fail,
			msg:   "older than 1.16.0, the first version with ECR authentication with the task execution role (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html)",
			check: adviceHas("aws ecs update-container-agent --cluster prod --container-instance ci-1")},
		{name: "no execution role asks nothing of an old agent", facts: with(ixFacts, ixThen(host, version("1.15.2"), func(f *account.Facts) {
			f.ECS.TaskDefinitions[0].ExecutionRoleArn = nil
		})), status: Pass, msg: "is connected."},
		{name: "repositoryCredentials need 1.19.0", facts: with(ixFacts, ixThen(host, version("1.18.0"), func(f *account.Facts) {
			ixContainer(f).RepositoryCredentials = &ecstypes.RepositoryCredentials{CredentialsParameter: aws.String(ixSecret)}
		})), status: Fail, msg: "older than 1.19.0, the first version with private registry authentication"},
		{name: "secrets need 1.22.0", facts: with(ixFacts, ixThen(host, version("v1.21.0"), secret(ixSecret))), status: Fail, msg: "older than 1.22.0"},
		{name: "a secret's JSON key needs 1.37.0", facts: with(ixFacts, ixThen(host, version("1.36.2-1"), secret(ixSecret+":password::"))), status: Fail,
			msg: "older than 1.37.0, the first version with a JSON key or version of a secret"},
		{name: "disconnected agent warns", facts: with(ixFacts, ixThen(host, func(f *account.Facts) { hostCI(f).AgentConnected = false })), status: Warn,
			msg: "is disconnected from ECS", check: adviceHas("aws ssm send-command --instance-ids i-host")},
		{name: "too old wins over disconnected", facts: with(ixFacts, ixThen(host, version("1.10.0"), func(f *account.Facts) { hostCI(f).AgentConnected = false })), status: Fail, msg: "older than 1.16.0"},
		{name: "unreadable version warns", facts: with(ixFacts, ixThen(host, version("latest"))), status: Warn, msg: `reports version "latest"`},
		{name: "container instance not collected", facts: with(ixFacts, ixThen(host, func(f *account.Facts) { f.ECS.ContainerInstances = nil })), status: Error, msg: "not found"},
		{name: "container instance read denied", facts: failedRead(with(ixFacts, host), account.SrcContainerInstance), status: Error, msg: "AccessDenied"},
	})
}

func TestParseAgentVersion(t *testing.T) {
	for in, want := range map[string]string{"1.16.0": "1.16.0", "v1.87.1": "1.87.1", "1.87.1-1": "1.87.1", "2": "2.0.0"} {
		v, ok := parseAgentVersion(in)
		if !ok || v.String() != want {
			t.Errorf("parseAgentVersion(%q) = %v, %v; want %s", in, v, ok, want)
		}
	}
	for _, in := range []string{"", "x.y", "1.2.3.4", "-1.0"} {
		if v, ok := parseAgentVersion(in); ok {
			t.Errorf("parseAgentVersion(%q) = %v, want refused", in, v)
		}
	}
}
