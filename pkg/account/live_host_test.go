package account_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/account/awscount"
	"github.com/pullmedic/pullmedic/pkg/event"
)

// The EC2 launch type against moto: the fixture's VPC gets a container
// instance in its public subnet, registered the way moto allows
// (RegisterContainerInstance with an instance identity document naming an
// instance created first). What moto cannot do, and is covered offline by
// the rule tests and the ec2-* scenarios instead: it answers agentConnected
// true and agent 1.0.0 / Docker 1.5.0 with its own four attributes whatever
// is registered (no disconnected or current agent, no ecs.os-family, so no
// Windows host), it reports IamInstanceProfile.Id as an association ID, it
// holds no ECS tasks (the event stands in), and it enforces no IAM.

type hostFixture struct {
	*fixture
	instance, hostSG, containerInstance, noRoleTD string
}

const hostRole = "pm-ecs-instance" // role and instance profile share the name

func seedHost(t testing.TB) *hostFixture {
	t.Helper()
	fx := seed(t)
	ctx := context.Background()
	cfg := fx.cfg.Copy()
	cfg.Region = taskRegion
	e, c, i := ec2.NewFromConfig(cfg), ecs.NewFromConfig(cfg), iam.NewFromConfig(cfg)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed %s: %v", what, err)
		}
	}
	h := &hostFixture{fixture: fx}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	_, err := i.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(hostRole), AssumeRolePolicyDocument: aws.String(trust)})
	must("instance role", err)
	_, err = i.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(hostRole), PolicyName: aws.String("pull"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"*"}]}`)})
	must("instance role policy", err)
	p, err := i.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(hostRole)})
	must("instance profile", err)
	_, err = i.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(hostRole), RoleName: aws.String(hostRole)})
	must("profile role", err)
	sg, err := e.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("pm-hosts"), Description: aws.String("ECS hosts"), VpcId: aws.String(fx.vpc)})
	must("host group", err)
	h.hostSG = aws.ToString(sg.GroupId)
	run, err := e.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: ec2types.InstanceTypeM5Large, SubnetId: aws.String(fx.public), SecurityGroupIds: []string{h.hostSG},
		IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Arn: p.InstanceProfile.Arn}})
	must("instance", err)
	h.instance = aws.ToString(run.Instances[0].InstanceId)
	doc, _ := json.Marshal(map[string]string{"instanceId": h.instance, "region": taskRegion, "accountId": accountID})
	ci, err := c.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String(fx.clusterArn), InstanceIdentityDocument: aws.String(string(doc))})
	must("container instance", err)
	h.containerInstance = aws.ToString(ci.ContainerInstance.ContainerInstanceArn)
	td, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("bridge"), NetworkMode: ecstypes.NetworkModeBridge,
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityEc2},
		ContainerDefinitions:    []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(fx.typicalImage), Memory: aws.Int32(256), Essential: aws.Bool(true)}}})
	must("bridge task definition", err)
	h.noRoleTD = aws.ToString(td.TaskDefinition.TaskDefinitionArn)
	return h
}

// onHost is a task of the fixture's on the container instance in bridge mode.
func (h *hostFixture) onHost(td string) *event.Task {
	t := h.task(td, h.typicalImage)
	t.LaunchType, t.PlatformVersion, t.ContainerInstanceArn = "EC2", "", h.containerInstance
	t.SubnetID, t.ENIID, t.PrivateIP = "", "", ""
	return t
}

func TestCollectContainerInstance(t *testing.T) {
	h := seedHost(t)
	t.Run("instance path and instance role", func(t *testing.T) {
		f := collect(t, account.NewLive(h.cfg), h.onHost(h.noRoleTD))
		wantErrors(t, f)
		if f.ContainerInstance() == nil || f.Instance() == nil || aws.ToString(f.Instance().InstanceId) != h.instance {
			t.Fatalf("container instance %+v, instance %+v; want %s on %s", f.ECS.ContainerInstances, f.EC2.Instances, h.containerInstance, h.instance)
		}
		// The path is the instance's: its subnet (public), VPC and group.
		if f.PullSubnetID() != h.public || f.VPCID() != h.vpc || f.SecurityGroup(h.hostSG) == nil {
			t.Errorf("pull subnet %s, VPC %s, host group read %v; want %s in %s", f.PullSubnetID(), f.VPCID(), f.SecurityGroup(h.hostSG) != nil, h.public, h.vpc)
		}
		if role, profile := f.InstanceRole(); role == nil || aws.ToString(role.RoleName) != hostRole || len(role.RolePolicyList) != 1 {
			t.Errorf("instance role of profile %s = %+v, want %s with its inline policy", profile, role, hostRole)
		}
		// A snapshot of it reads back with both sections.
		raw, err := f.Snapshot.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		back, err := account.LoadSnapshot("host", raw)
		if err != nil || len(back.ECS.ContainerInstances) != 1 || len(back.EC2.Instances) != 1 {
			t.Errorf("snapshot round trip: %v, %d container instances, %d instances", err, len(back.ECS.ContainerInstances), len(back.EC2.Instances))
		}
	})
	t.Run("profile whose role is named otherwise is a failed read", func(t *testing.T) {
		ctx := context.Background()
		i := iam.NewFromConfig(h.cfg)
		_, err := i.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String(hostRole), RoleName: aws.String(hostRole)})
		if err == nil {
			_, err = i.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(hostRole), PolicyName: aws.String("pull")})
		}
		if err == nil {
			_, err = i.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(hostRole)})
		}
		if err != nil {
			t.Fatalf("unseed the role: %v", err)
		}
		f := collect(t, account.NewLive(h.cfg), h.onHost(h.noRoleTD))
		wantErrors(t, f, account.SrcRole)
		if role, _ := f.InstanceRole(); role != nil {
			t.Errorf("instance role = %+v, want none found", role)
		}
	})
	t.Run("unknown container instance", func(t *testing.T) {
		task := h.onHost(h.typicalTD)
		task.ContainerInstanceArn = h.containerInstance[:len(h.containerInstance)-4] + "beef"
		f := collect(t, account.NewLive(h.cfg), task)
		if f.Errors[account.SrcContainerInstance] == "" || f.Errors[account.SrcSubnet] == "" {
			t.Errorf("errors = %v, want the container instance failed and the path reads skipped", f.Errors)
		}
	})
}

// TestCollectContainerInstanceRounds measures an EC2 task's reads behind a
// latency proxy: with an execution role (the common case) and with the
// instance role, whose name only the instance gives (round 2), so its
// policies are read in rounds 3 and 4: an inline policy's document, or a
// managed policy's default version, which the account listing of round 1
// named (without it, GetPolicy would take round 4 and GetPolicyVersion a fifth).
func TestCollectContainerInstanceRounds(t *testing.T) {
	h := seedHost(t)
	for _, tt := range []struct {
		name         string
		task         *event.Task
		managed      bool // the instance role has a managed policy too
		calls, round int
	}{
		{"execution role", h.onHost(h.typicalTD), false, 27, 4},
		{"instance role", h.onHost(h.noRoleTD), false, 27, 4},
		{"instance role with a managed policy", h.onHost(h.noRoleTD), true, 28, 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.managed {
				_, err := iam.NewFromConfig(h.cfg).AttachRolePolicy(context.Background(), &iam.AttachRolePolicyInput{RoleName: aws.String(hostRole), PolicyArn: &h.pullPolicy})
				if err != nil {
					t.Fatal(err)
				}
			}
			calls := awscount.New()
			cfg := latencyProxy(t, h.cfg, 30*time.Millisecond)
			calls.Attach(&cfg)
			f := collect(t, account.NewLive(cfg), tt.task)
			wantErrors(t, f)
			role, _ := f.InstanceRole()
			if p := f.ManagedPolicy(h.pullPolicy); tt.managed && (role == nil || len(role.AttachedManagedPolicies) != 1 || p == nil || len(p.PolicyVersionList) != 1) {
				t.Errorf("instance role %+v, policy %+v: want its managed policy and its default version read", role, p)
			}
			if calls.Calls() != tt.calls || calls.Rounds() != tt.round {
				t.Errorf("%d calls in %d rounds, want %d in %d: %+v", calls.Calls(), calls.Rounds(), tt.calls, tt.round, calls.List())
			}
		})
	}
}
