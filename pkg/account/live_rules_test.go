package account_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

// TestLiveRules runs the catalog over what the live view collects from moto:
// the NAT path is followed through the NAT's own subnet, which is not
// collected, and an endpoint in another subnet brings that subnet along.
func TestLiveRules(t *testing.T) {
	fx := seed(t)
	ctx := context.Background()
	ec2c := ec2.NewFromConfig(fx.cfg, func(o *ec2.Options) { o.Region = taskRegion })
	// A logs endpoint in the public subnet: the task's awslogs would go there.
	if _, err := ec2c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{
		VpcId: &fx.vpc, VpcEndpointType: ec2types.VpcEndpointTypeInterface, PrivateDnsEnabled: aws.Bool(true),
		ServiceName: aws.String("com.amazonaws." + taskRegion + ".logs"),
		SubnetIds:   []string{fx.public}, SecurityGroupIds: []string{fx.endSG},
	}); err != nil {
		t.Fatal(err)
	}
	live := account.NewLive(fx.cfg)

	tests := []struct {
		name  string
		task  func() *event.Task
		setup func(t *testing.T)
		want  map[string]rules.Status
	}{
		{
			name: "healthy NAT path",
			task: fx.typical,
			want: map[string]rules.Status{"network.route": rules.Pass, "network.endpoint-sg": rules.Pass,
				"network.task-sg-egress": rules.Pass, "network.nacl": rules.Pass, "image.tag": rules.Pass},
		},
		{
			name: "tag missing",
			task: func() *event.Task { return fx.task(fx.typicalTD, strings.Replace(fx.typicalImage, ":2.0", ":9.9", 1)) },
			want: map[string]rules.Status{"network.route": rules.Pass, "image.repository": rules.Pass, "image.tag": rules.Fail},
		},
		{
			name: "endpoint security group without 443 from the task",
			task: fx.typical,
			setup: func(t *testing.T) {
				_, err := ec2c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: &fx.endSG, IpPermissions: []ec2types.IpPermission{{
					IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
					UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: &fx.taskSG}},
				}}})
				if err != nil {
					t.Fatal(err)
				}
			},
			want: map[string]rules.Status{"network.route": rules.Pass, "network.endpoint-sg": rules.Fail},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup(t)
			}
			f := collect(t, live, tt.task())
			wantErrors(t, f)
			if f.Subnet(fx.public) == nil {
				t.Errorf("the logs endpoint's subnet %s was not collected: %v", fx.public, ids(f.EC2.Subnets, subnetID))
			}
			for _, fd := range rules.Evaluate(f) {
				if fd.Status == rules.Error {
					t.Errorf("%s: error: %s", fd.Rule, fd.Message)
				}
				if want, ok := tt.want[fd.Rule]; ok && fd.Status != want {
					t.Errorf("%s = %s (%s), want %s", fd.Rule, fd.Status, fd.Message, want)
				}
			}
		})
	}
}
