package fix

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

// TestGuardRefusesEC2Tasks: steps the guard rails accept for a Fargate task
// are refused, each one, when the same task runs on a container instance,
// whose pull goes over the host's network (the second line behind the rules,
// which attach no automatic fix there).
func TestGuardRefusesEC2Tasks(t *testing.T) {
	onHost := func(f *account.Facts) *account.Facts {
		f.Task.LaunchType = string(ecstypes.LaunchTypeEc2)
		f.Task.ContainerInstanceArn = "arn:aws:ecs:eu-west-1:111122223333:container-instance/prod/0f9e8d7c6b5a4938"
		f.ECS.ContainerInstances = []ecstypes.ContainerInstance{{ContainerInstanceArn: aws.String(f.Task.ContainerInstanceArn), Ec2InstanceId: aws.String("i-0host")}}
		f.EC2.Instances = []ec2types.Instance{{InstanceId: aws.String("i-0host"), SubnetId: aws.String(f.Task.SubnetID)}}
		return f
	}
	cases := []struct {
		name string
		f    func() *account.Facts
		step rules.Step
	}{
		{"sg-allow-443-from-task", func() *account.Facts { return facts(endpointSGClosed("enabled"), fxTask()) },
			rules.Step{Action: rules.ActionAllowFromTask, Target: "sg-ep"}},
		{"sg-allow-443-egress", func() *account.Facts { return facts(egressClosedNAT("enabled"), fxTask()) },
			rules.Step{Action: rules.ActionAllowEgress, Target: "sg-task"}},
		{"enable-public-ip", func() *account.Facts { return facts(publicNoIP("enabled"), onPublicSubnet(fxTask())) },
			rules.Step{Action: rules.ActionPublicIP, Target: "api"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := resolve(tc.f(), tc.step, "network.x", fxNow); err != nil {
				t.Fatalf("the Fargate task's step is refused (%v): the case proves nothing", err)
			}
			ops, err := resolve(onHost(tc.f()), tc.step, "network.x", fxNow)
			if err == nil || !strings.Contains(err.Error(), "EC2 launch type") || !strings.Contains(err.Error(), "instance i-0host") {
				t.Fatalf("err = %v, ops %+v; want a refusal naming the EC2 launch type and the instance", err, ops)
			}
		})
	}
}
