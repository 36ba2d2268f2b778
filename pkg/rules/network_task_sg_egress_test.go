package rules

import (
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/pullmedic/pullmedic/pkg/account"
)

// taskEgress replaces the task group's outbound rules.
func taskEgress(perms ...ec2types.IpPermission) func(*account.Facts) {
	return func(f *account.Facts) { f.SecurityGroup("sg-task").IpPermissionsEgress = perms }
}

func wantDestinations(want ...Destination) func(*testing.T, Finding) {
	return func(t *testing.T, fd Finding) {
		t.Helper()
		if fd.Fix == nil || fd.Fix.Action != ActionAllowEgress || fd.Fix.Target != "sg-task" || !fd.Fix.AutoFixable {
			t.Fatalf("fix = %+v", fd.Fix)
		}
		if got := fd.Fix.Params.Destinations; !reflect.DeepEqual(got, want) {
			t.Errorf("destinations = %v, want %v", got, want)
		}
	}
}

func TestNetworkTaskSGEgress(t *testing.T) {
	runRuleCases(t, NetworkTaskSGEgress, []ruleCase{
		{name: "nat path with default egress passes", facts: natVPC, status: Pass, msg: "(sg-task) allow outbound"},
		{name: "endpoint design passes", facts: endpointVPC, status: Pass, check: func(t *testing.T, fd Finding) {
			if n := len(fd.Evidence["allowed"].([]string)); n != 4 {
				t.Errorf("allowed = %v, want 3 endpoints and S3", fd.Evidence["allowed"])
			}
		}},
		{name: "nat path, egress only inside the VPC fails", facts: with(natVPC, taskEgress(fxPerm(toCIDR("10.0.0.0/16")))), status: Fail,
			msg: "allow no outbound TCP 443 to the internet (0.0.0.0/0)", check: wantDestinations(Destination{CIDR: "0.0.0.0/0"})},
		{name: "second group allows (union)", facts: with(natVPC, func(f *account.Facts) {
			taskEgress()(f)
			f.EC2.SecurityGroups = append(f.EC2.SecurityGroups, ec2types.SecurityGroup{GroupId: aws.String("sg-open"), IpPermissionsEgress: []ec2types.IpPermission{allTraffic}})
			cfg := f.ECS.Services[0].NetworkConfiguration.AwsvpcConfiguration
			cfg.SecurityGroups = append(cfg.SecurityGroups, "sg-open")
		}), status: Pass},
		{name: "endpoint design without S3 prefix list fails", facts: with(endpointVPC, taskEgress(fxPerm(toGroup("sg-ep")))), status: Fail,
			msg: "S3 gateway endpoint vpce-s3 (pl-s3)", check: wantDestinations(Destination{PrefixListID: "pl-s3"})},
		{name: "endpoint design without endpoint group fails once per group", facts: with(endpointVPC, taskEgress(fxPerm(toPrefixList("pl-s3")))), status: Fail,
			msg: "ecr.dkr endpoint vpce-ecr-dkr", check: wantDestinations(Destination{GroupID: "sg-ep"})},
		{name: "endpoint design with VPC CIDR and S3 CIDRs passes", facts: with(endpointVPC, taskEgress(fxPerm(toCIDR("10.0.0.0/16")),
			fxPerm(toCIDR("52.218.0.0/16")), fxPerm(toCIDR("3.5.0.0/16")))), status: Pass},
		{name: "endpoint design with VPC CIDR only fails on S3", facts: with(endpointVPC, taskEgress(fxPerm(toCIDR("10.0.0.0/16")))), status: Fail,
			check: wantDestinations(Destination{PrefixListID: "pl-s3"})},
		{name: "nat path, egress to an uncollected prefix list warns", facts: with(natVPC, taskEgress(fxPerm(toPrefixList("pl-proxy")))), status: Warn,
			msg: "let TCP 443 out to the internet (0.0.0.0/0) only if prefix list pl-proxy, whose entries were not collected, covers it"},
		{name: "endpoint design with 0.0.0.0/0 passes", facts: with(endpointVPC, taskEgress(allTraffic)), status: Pass},
		{name: "endpoint design, no egress: no internet cidr offered", facts: with(endpointVPC, taskEgress()), status: Fail,
			check: wantDestinations(Destination{GroupID: "sg-ep"}, Destination{PrefixListID: "pl-s3"})},
		{name: "transit gateway path is not fixed with 0.0.0.0/0", facts: with(natVPC, func(f *account.Facts) {
			taskEgress()(f)
			r := defaultRouteOf(f, "rtb-app")
			r.NatGatewayId, r.TransitGatewayId = nil, aws.String("tgw-1")
		}), status: Fail, check: func(t *testing.T, fd Finding) {
			if fd.Fix != nil {
				t.Errorf("fix = %+v, want none off an internet path", fd.Fix)
			}
		}},
		{name: "endpoint design with nothing reachable skips", facts: with(endpointVPC, func(f *account.Facts) {
			f.Task.Containers[0].Image = "nginx:1.27"
			f.ECS.TaskDefinitions[0].ContainerDefinitions[0].LogConfiguration = nil
		}), status: Skip, msg: "network.vpc-endpoints"},
		{name: "unknown task groups is an error", facts: with(natVPC, func(f *account.Facts) {
			standalone(f, false)
			f.EC2.NetworkInterfaces = nil
		}), status: Error, msg: "ENI eni-1 is gone"},
		{name: "task group not found is an error", facts: with(natVPC, func(f *account.Facts) { f.EC2.SecurityGroups = nil }), status: Error, msg: "security group sg-task not found"},
		{name: "security group read failed is an error", facts: failedRead(natVPC, account.SrcSecurityGroups), status: Error, msg: "AccessDenied"},
	})
}
