package rules

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/pullmedic/pullmedic/pkg/account"
)

// endpointIngress replaces the endpoint group's inbound rules.
func endpointIngress(perms ...ec2types.IpPermission) func(*account.Facts) {
	return func(f *account.Facts) { f.SecurityGroup("sg-ep").IpPermissions = perms }
}

// natWithEndpoints keeps the NAT route but adds the endpoint design's endpoints.
func natWithEndpoints() *account.Facts {
	f := endpointVPC()
	rt := fxRouteTable(f, "rtb-app")
	rt.Routes = append(rt.Routes, fxRoute("0.0.0.0/0", viaNAT("nat-1")))
	return f
}

func TestNetworkEndpointSG(t *testing.T) {
	allEndpoints := []string{"vpce-ecr-dkr", "vpce-ecr-api", "vpce-logs"}
	runRuleCases(t, NetworkEndpointSG, []ruleCase{
		{name: "group reference passes", facts: endpointVPC, status: Pass, msg: "(3 endpoints)"},
		{name: "nat path without endpoints skips", facts: natVPC, status: Skip, msg: "No interface endpoint"},
		{name: "nat path, endpoints without private DNS skip", facts: with(natWithEndpoints, func(f *account.Facts) {
			for i := range f.EC2.VpcEndpoints {
				f.EC2.VpcEndpoints[i].PrivateDnsEnabled = aws.Bool(false)
			}
		}), status: Skip, msg: "No interface endpoint"},
		{name: "missing rule fails with auto fix", facts: with(endpointVPC, endpointIngress()), status: Fail,
			msg: "The security groups (sg-ep) of ecr.dkr endpoint vpce-ecr-dkr, ecr.api endpoint vpce-ecr-api, logs endpoint vpce-logs allow no inbound TCP 443 from the task (sg-task, 10.0.1.23/32).",
			check: wantFix(Fix{Action: ActionAllowFromTask, Target: "sg-ep", AutoFixable: true,
				Params: &Params{GroupIDs: []string{"sg-ep"}, SourceGroupID: "sg-task", Endpoints: allEndpoints}},
				`aws ec2 authorize-security-group-ingress --group-id sg-ep --ip-permissions 'IpProtocol=tcp,FromPort=443,ToPort=443,UserIdGroupPairs=[{GroupId=sg-task,`)},
		{name: "private DNS endpoints on a NAT path still judged", facts: with(natWithEndpoints, endpointIngress()), status: Fail, msg: "despite its internet route"},
		{name: "only one endpoint with another group fails", facts: with(endpointVPC, func(f *account.Facts) {
			fxEndpoint(f, "vpce-logs").Groups = []ec2types.SecurityGroupIdentifier{{GroupId: aws.String("sg-logs")}}
			f.EC2.SecurityGroups = append(f.EC2.SecurityGroups, ec2types.SecurityGroup{GroupId: aws.String("sg-logs")})
		}), status: Fail, msg: "(sg-logs) of logs endpoint vpce-logs allow no",
			check: func(t *testing.T, fd Finding) {
				if got := fd.Fix.Params.Endpoints; len(got) != 1 || got[0] != "vpce-logs" {
					t.Errorf("endpoints = %v", got)
				}
			}},
		{name: "CIDR covering the task passes", facts: with(endpointVPC, endpointIngress(fxPerm(toCIDR("10.0.0.0/16")))), status: Pass},
		{name: "CIDR missing the task fails", facts: with(endpointVPC, endpointIngress(fxPerm(toCIDR("10.0.2.0/24")))), status: Fail, msg: "allow no inbound"},
		{name: "prefix list covering the task passes", facts: with(endpointVPC, func(f *account.Facts) {
			endpointIngress(fxPerm(toPrefixList("pl-corp")))(f)
			f.EC2.PrefixLists = append(f.EC2.PrefixLists, ec2types.PrefixList{PrefixListId: aws.String("pl-corp"), Cidrs: []string{"192.168.0.0/16", "10.0.0.0/8"}})
		}), status: Pass},
		{name: "uncollected prefix list warns", facts: with(endpointVPC, endpointIngress(fxPerm(toPrefixList("pl-unknown")))), status: Warn,
			msg: "only if prefix list pl-unknown, whose entries were not collected, covers it", check: adviceHas("aws ec2 get-managed-prefix-list-entries --prefix-list-id pl-unknown")},
		{name: "all traffic passes", facts: with(endpointVPC, endpointIngress(ec2types.IpPermission{IpProtocol: aws.String("-1"),
			UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String("sg-task")}}})), status: Pass},
		{name: "wrong ports fail", facts: with(endpointVPC, endpointIngress(ec2types.IpPermission{IpProtocol: aws.String("tcp"),
			FromPort: aws.Int32(80), ToPort: aws.Int32(442), UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String("sg-task")}}})), status: Fail},
		{name: "udp fails", facts: with(endpointVPC, endpointIngress(ec2types.IpPermission{IpProtocol: aws.String("udp"),
			FromPort: aws.Int32(443), ToPort: aws.Int32(443), UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String("sg-task")}}})), status: Fail},
		{name: "unknown task groups: subnet CIDR rule passes", facts: with(endpointVPC, func(f *account.Facts) {
			standalone(f, false)
			f.EC2.NetworkInterfaces, f.Task.PrivateIP = nil, ""
			endpointIngress(fxPerm(toCIDR("10.0.1.0/24")))(f)
		}), status: Pass},
		{name: "unknown task groups: a group reference cannot be judged", facts: with(endpointVPC, func(f *account.Facts) {
			standalone(f, false)
			f.EC2.NetworkInterfaces = nil
		}), status: Error, msg: "admit TCP 443 from security groups only, and the task's are unknown (no service network configuration and ENI eni-1 is gone)"},
		{name: "unknown task groups: fail is not auto-fixable", facts: with(endpointVPC, func(f *account.Facts) {
			standalone(f, false)
			f.EC2.NetworkInterfaces = nil
			endpointIngress(fxPerm(toCIDR("10.0.2.0/24")))(f)
		}), status: Fail, check: func(t *testing.T, fd Finding) {
			if fd.Fix == nil || fd.Fix.AutoFixable || fd.Fix.Params.SourceGroupID != "" {
				t.Errorf("fix = %+v, want not auto-fixable without a source group", fd.Fix)
			}
		}},
		{name: "endpoint group not found is an error", facts: with(endpointVPC, func(f *account.Facts) { f.EC2.SecurityGroups = f.EC2.SecurityGroups[:1] }),
			status: Error, msg: "security group sg-ep not found"},
		{name: "endpoint without groups is an error", facts: with(endpointVPC, func(f *account.Facts) { fxEndpoint(f, "vpce-ecr-dkr").Groups = nil }),
			status: Error, msg: "ecr.dkr endpoint vpce-ecr-dkr lists no security groups"},
		{name: "security group read failed is an error", facts: failedRead(endpointVPC, account.SrcSecurityGroups), status: Error, msg: "AccessDenied"},
		{name: "subnet not found is an error", facts: with(endpointVPC, func(f *account.Facts) { f.Task.SubnetID = "subnet-x" }), status: Error, msg: "not found"},
	})
}
