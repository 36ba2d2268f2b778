package rules

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
)

// Fixtures of the iam.* and image.* tests: a Fargate task in account
// 111122223333 (eu-west-1) whose container "api" pulls team/api:1.0 from its
// own ECR, with execution role ecsTaskExecutionRole (trusted by ECS, the AWS
// managed execution policy attached, not collected) and the awslogs driver.

const (
	ixAccount = "111122223333"
	ixOther   = "444455556666"
	ixTaskDef = "arn:aws:ecs:eu-west-1:111122223333:task-definition/api:7"
	ixRoleARN = "arn:aws:iam::111122223333:role/ecsTaskExecutionRole"
	ixImage   = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/api:1.0"
	ixRepoARN = "arn:aws:ecr:eu-west-1:111122223333:repository/team/api"
	ixXImage  = "444455556666.dkr.ecr.eu-west-1.amazonaws.com/shared/base:2"
	ixXRepo   = "arn:aws:ecr:eu-west-1:444455556666:repository/shared/base"
	ixSecret  = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf"
	ixDigest  = "sha256:1010101010101010101010101010101010101010101010101010101010101010"
	ixTrust   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
)

func ixFacts() *account.Facts {
	pushed := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	return &account.Facts{
		Task: &event.Task{
			Account: ixAccount, Region: "eu-west-1",
			TaskArn:           "arn:aws:ecs:eu-west-1:111122223333:task/prod/0123456789abcdef",
			ClusterArn:        "arn:aws:ecs:eu-west-1:111122223333:cluster/prod",
			TaskDefinitionArn: ixTaskDef,
			Containers:        []event.Container{{Name: "api", Image: ixImage}},
			FailedContainer:   "api",
			Failure:           "CannotPullContainerError: pull image manifest has been retried 5 time(s)",
			Class:             event.ClassUnknown,
		},
		Snapshot: account.Snapshot{
			Account: ixAccount, Region: "eu-west-1",
			ECS: account.ECSSection{TaskDefinitions: []ecstypes.TaskDefinition{{
				TaskDefinitionArn: aws.String(ixTaskDef), Family: aws.String("api"),
				ExecutionRoleArn: aws.String(ixRoleARN),
				ContainerDefinitions: []ecstypes.ContainerDefinition{{
					Name: aws.String("api"), Image: aws.String(ixImage),
					LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs},
				}},
			}}},
			IAM: account.IAMSection{RoleDetailList: []iamtypes.RoleDetail{{
				Arn: aws.String(ixRoleARN), RoleName: aws.String("ecsTaskExecutionRole"),
				AssumeRolePolicyDocument: aws.String(url.QueryEscape(ixTrust)),
				AttachedManagedPolicies:  []iamtypes.AttachedPolicy{{PolicyArn: aws.String(ExecutionRolePolicyARN)}},
			}}},
			ECR: account.ECRSection{
				Repositories: []ecrtypes.Repository{{RepositoryName: aws.String("team/api"), RegistryId: aws.String(ixAccount)}},
				Images: map[string][]ecrtypes.ImageDetail{"team/api": {
					{ImageTags: []string{"0.9"}, ImageDigest: aws.String("sha256:0909090909090909090909090909090909090909090909090909090909090909"), ImagePushedAt: aws.Time(pushed)},
					{ImageTags: []string{"1.0", "stable"}, ImageDigest: aws.String(ixDigest), ImagePushedAt: aws.Time(pushed.Add(time.Hour)),
						ImageManifestMediaType: aws.String("application/vnd.docker.distribution.manifest.v2+json")},
				}},
			},
		},
	}
}

// ixContainer is the "api" container definition of the fixture.
func ixContainer(f *account.Facts) *ecstypes.ContainerDefinition {
	return &f.ECS.TaskDefinitions[0].ContainerDefinitions[0]
}

// ixRole is the fixture's execution role.
func ixRole(f *account.Facts) *iamtypes.RoleDetail { return &f.IAM.RoleDetailList[0] }

// ixSetImage points the api container (event and definition) at another image.
func ixSetImage(image string) func(*account.Facts) {
	return func(f *account.Facts) {
		f.Task.Containers[0].Image = image
		ixContainer(f).Image = aws.String(image)
	}
}

// ixReason sets the stop reason and its class.
func ixReason(reason string, class event.ReasonClass) func(*account.Facts) {
	return func(f *account.Facts) { f.Task.Failure, f.Task.Class = reason, class }
}

// ixInline replaces the role's policies with one inline policy.
func ixInline(doc string) func(*account.Facts) {
	return func(f *account.Facts) {
		r := ixRole(f)
		r.AttachedManagedPolicies = nil
		r.RolePolicyList = []iamtypes.PolicyDetail{{PolicyName: aws.String("pull"), PolicyDocument: aws.String(doc)}}
	}
}

// ixManaged adds a collected customer managed policy.
func ixManaged(arn, doc string) func(*account.Facts) {
	return func(f *account.Facts) {
		f.IAM.Policies = append(f.IAM.Policies, iamtypes.ManagedPolicyDetail{Arn: aws.String(arn), DefaultVersionId: aws.String("v2"),
			PolicyVersionList: []iamtypes.PolicyVersion{{VersionId: aws.String("v1")}, {VersionId: aws.String("v2"), Document: aws.String(doc)}}})
	}
}

// ixThen chains mutations.
func ixThen(muts ...func(*account.Facts)) func(*account.Facts) {
	return func(f *account.Facts) {
		for _, m := range muts {
			m(f)
		}
	}
}

// evidenceHas asserts that the evidence, as the JSON report shows it, holds each substring.
func evidenceHas(want ...string) func(*testing.T, Finding) {
	return func(t *testing.T, fd Finding) {
		t.Helper()
		b, err := json.Marshal(fd.Evidence)
		if err != nil {
			t.Fatalf("evidence does not marshal: %v", err)
		}
		for _, w := range want {
			if !strings.Contains(string(b), w) {
				t.Errorf("evidence %s does not hold %q", b, w)
			}
		}
	}
}

// both runs two checks.
func both(a, b func(*testing.T, Finding)) func(*testing.T, Finding) {
	return func(t *testing.T, fd Finding) {
		t.Helper()
		a(t, fd)
		b(t, fd)
	}
}

// ixAddContainer adds a container (event and definition) pulling image.
func ixAddContainer(name, image string) func(*account.Facts) {
	return func(f *account.Facts) {
		f.Task.Containers = append(f.Task.Containers, event.Container{Name: name, Image: image})
		td := &f.ECS.TaskDefinitions[0]
		td.ContainerDefinitions = append(td.ContainerDefinitions, ecstypes.ContainerDefinition{Name: aws.String(name), Image: aws.String(image)})
	}
}
