package rules

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/pkg/account"
)

// EC2 fixtures: the task runs on container instance ci-1, EC2 instance
// i-host (10.0.1.50, sg-host: all egress) in a subnet of the fixture VPC.

const fxHostARN = "arn:aws:ecs:eu-west-1:111122223333:container-instance/prod/ci-1"

// onHost moves the task onto an EC2 container instance in subnet, in
// bridge mode: no task ENI, no awsvpc configuration.
func onHost(subnet string) func(*account.Facts) {
	return func(f *account.Facts) {
		f.Task.LaunchType, f.Task.PlatformVersion = string(ecstypes.LaunchTypeEc2), ""
		f.Task.SubnetID, f.Task.ENIID, f.Task.PrivateIP = "", "", ""
		f.Task.ContainerInstanceArn = fxHostARN
		if len(f.ECS.Services) > 0 {
			f.ECS.Services[0].NetworkConfiguration = nil
		}
		f.ECS.ContainerInstances = []ecstypes.ContainerInstance{{
			ContainerInstanceArn: aws.String(fxHostARN), Ec2InstanceId: aws.String("i-host"),
			AgentConnected: true, Status: aws.String("ACTIVE"),
			VersionInfo: &ecstypes.VersionInfo{AgentVersion: aws.String("1.87.0")},
		}}
		f.EC2.Instances = []ec2types.Instance{{
			InstanceId: aws.String("i-host"), SubnetId: aws.String(subnet), VpcId: aws.String("vpc-1"),
			PrivateIpAddress:   aws.String("10.0.1.50"),
			SecurityGroups:     []ec2types.GroupIdentifier{{GroupId: aws.String("sg-host")}},
			IamInstanceProfile: &ec2types.IamInstanceProfile{Arn: aws.String("arn:aws:iam::111122223333:instance-profile/ecsInstanceRole")},
		}}
		f.EC2.SecurityGroups = append(f.EC2.SecurityGroups, ec2types.SecurityGroup{GroupId: aws.String("sg-host"), VpcId: aws.String("vpc-1"),
			IpPermissionsEgress: []ec2types.IpPermission{allTraffic}})
	}
}

// hostInstance is the fixture's EC2 instance, for mutation.
func hostInstance(f *account.Facts) *ec2types.Instance { return &f.EC2.Instances[0] }

// hostCI is the fixture's container instance, for mutation.
func hostCI(f *account.Facts) *ecstypes.ContainerInstance { return &f.ECS.ContainerInstances[0] }
