package rules

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/pullmedic/pullmedic/pkg/account"
)

// adviceHas checks the advice of a finding that has no automatic fix.
func adviceHas(want string) func(*testing.T, Finding) {
	return func(t *testing.T, fd Finding) {
		t.Helper()
		adviceHasText(t, fd, want)
		if fd.Fix != nil {
			t.Errorf("route findings are never auto-fixed, got fix %+v", fd.Fix)
		}
	}
}

func adviceHasText(t *testing.T, fd Finding, want string) {
	t.Helper()
	if !strings.Contains(fd.Advice, want) {
		t.Errorf("advice %q does not hold %q", fd.Advice, want)
	}
}

func TestNetworkRoute(t *testing.T) {
	runRuleCases(t, NetworkRoute, []ruleCase{
		{name: "nat path passes", facts: natVPC, status: Pass, msg: "through nat-1", check: func(t *testing.T, fd Finding) {
			want := []string{"task 10.0.1.23 (eni-1)", "subnet subnet-app (private)", "route table rtb-app (explicit)",
				"0.0.0.0/0 → nat-1 (available)", "nat subnet subnet-pub → rtb-main → igw-1"}
			if got := fd.Evidence["chain"]; !reflect.DeepEqual(got, want) {
				t.Errorf("chain = %q, want %q", got, want)
			}
		}},
		{name: "nat path passes without the NAT's subnet in the facts", facts: with(natVPC, func(f *account.Facts) {
			f.EC2.Subnets = slices.DeleteFunc(f.EC2.Subnets, func(s ec2types.Subnet) bool { return aws.ToString(s.SubnetId) == "subnet-pub" })
		}), status: Pass, msg: "through nat-1"},
		{name: "igw path via main table passes", facts: publicVPC, status: Pass, msg: "through igw-1", check: func(t *testing.T, fd Finding) {
			if got := fd.Evidence["routeTable"]; got != "rtb-main (main)" {
				t.Errorf("routeTable evidence = %v", got)
			}
		}},
		{name: "endpoint design skips", facts: endpointVPC, status: Skip, msg: "network.vpc-endpoints"},
		{name: "no default route and no endpoints fails", facts: with(endpointVPC, func(f *account.Facts) { f.EC2.VpcEndpoints = nil }),
			status: Fail, msg: "rtb-app has no 0.0.0.0/0 route",
			check: adviceHas("aws ec2 create-route --route-table-id rtb-app --destination-cidr-block 0.0.0.0/0 --nat-gateway-id nat-1")},
		{name: "blackhole fails", facts: with(natVPC, func(f *account.Facts) {
			defaultRouteOf(f, "rtb-app").State = ec2types.RouteStateBlackhole
		}), status: Fail, msg: "blackhole", check: adviceHas("aws ec2 replace-route --route-table-id rtb-app --destination-cidr-block 0.0.0.0/0 --nat-gateway-id NAT_GATEWAY_ID")},
		{name: "failed NAT fails", facts: with(natVPC, func(f *account.Facts) { f.EC2.NatGateways[0].State = ec2types.NatGatewayStateFailed }),
			status: Fail, msg: "NAT gateway nat-1 is failed"},
		{name: "private NAT fails", facts: with(natVPC, func(f *account.Facts) { f.EC2.NatGateways[0].ConnectivityType = ec2types.ConnectivityTypePrivate }),
			status: Fail, msg: "private NAT gateway"},
		{name: "NAT subnet without a default route fails", facts: with(natVPC, func(f *account.Facts) {
			rt := fxRouteTable(f, "rtb-main")
			rt.Routes = rt.Routes[:1]
		}), status: Fail, msg: "rtb-main of NAT gateway nat-1's subnet subnet-pub", check: adviceHas("create-route --route-table-id rtb-main --destination-cidr-block 0.0.0.0/0 --gateway-id igw-1")},
		{name: "detached IGW fails", facts: with(publicVPC, func(f *account.Facts) { f.EC2.InternetGateways[0].Attachments = nil }),
			status: Fail, msg: "igw-1 is not attached to vpc-1", check: adviceHas("attach-internet-gateway --internet-gateway-id igw-1 --vpc-id vpc-1")},
		{name: "IGW behind NAT detached fails", facts: with(natVPC, func(f *account.Facts) {
			f.EC2.InternetGateways[0].Attachments[0].State = ec2types.AttachmentStatusDetached
		}), status: Fail, msg: "igw-1 behind NAT gateway nat-1 is not attached"},
		{name: "broken route with endpoints skips", facts: with(endpointVPC, func(f *account.Facts) {
			fxRouteTable(f, "rtb-app").Routes = append(fxRouteTable(f, "rtb-app").Routes, fxRoute("0.0.0.0/0", viaNAT("nat-1")))
			f.EC2.NatGateways[0].State = ec2types.NatGatewayStateDeleted
		}), status: Skip, msg: "NAT gateway nat-1 is deleted"},
		{name: "transit gateway warns", facts: with(natVPC, func(f *account.Facts) {
			r := defaultRouteOf(f, "rtb-app")
			r.NatGatewayId, r.TransitGatewayId = nil, aws.String("tgw-1")
		}), status: Warn, msg: "leaves the VPC through transit gateway tgw-1", check: adviceHas("transit gateway route table of tgw-1's attachment")},
		{name: "firewall endpoint behind NAT warns", facts: with(natVPC, func(f *account.Facts) {
			defaultRouteOf(f, "rtb-main").GatewayId = aws.String("vpce-fw")
		}), status: Warn, msg: "nat-1 sends traffic on through firewall endpoint vpce-fw (AWS Network Firewall", check: adviceHas("firewall behind vpce-fw allows TCP 443")},
		{name: "Gateway Load Balancer endpoint warns, named", facts: with(natVPC, func(f *account.Facts) {
			r := defaultRouteOf(f, "rtb-app")
			r.NatGatewayId, r.GatewayId = nil, aws.String("vpce-gwlb")
			f.EC2.VpcEndpoints = append(f.EC2.VpcEndpoints, ec2types.VpcEndpoint{VpcEndpointId: aws.String("vpce-gwlb"), VpcId: aws.String("vpc-1"),
				VpcEndpointType: ec2types.VpcEndpointTypeGatewayLoadBalancer})
		}), status: Warn, msg: "Gateway Load Balancer endpoint vpce-gwlb"},
		{name: "peering warns: no transitive routing", facts: with(natVPC, func(f *account.Facts) {
			r := defaultRouteOf(f, "rtb-app")
			r.NatGatewayId, r.VpcPeeringConnectionId = nil, aws.String("pcx-1")
		}), status: Warn, msg: "VPC peering connection pcx-1", check: adviceHas("no transitive routing")},
		{name: "IPv6-only subnet with an egress-only gateway passes", facts: with(natVPC, ipv6Only("eigw-1")), status: Pass, msg: "through eigw-1"},
		{name: "IPv6-only subnet without ::/0 fails, endpoints or not", facts: with(endpointVPC, ipv6Only("")), status: Fail,
			msg: "IPv6-only subnet subnet-app has no working ::/0 route", check: adviceHas("create-egress-only-internet-gateway")},
		{name: "subnet not found is an error", facts: with(natVPC, func(f *account.Facts) { f.Task.SubnetID = "subnet-gone" }),
			status: Error, msg: "subnet subnet-gone not found"},
		{name: "NAT not found is an error", facts: with(natVPC, func(f *account.Facts) { f.EC2.NatGateways = nil }),
			status: Error, msg: "NAT gateway nat-1 not found"},
		{name: "no route table is an error", facts: with(natVPC, func(f *account.Facts) { f.EC2.RouteTables = nil }),
			status: Error, msg: "route table of subnet subnet-app not found"},
		{name: "failed read is an error", facts: failedRead(natVPC, account.SrcRouteTables), status: Error, msg: "AccessDenied"},
	})
}

// ipv6Only makes the task's subnet IPv6-only, with a ::/0 route to target ("" for none).
func ipv6Only(target string) func(*account.Facts) {
	return func(f *account.Facts) {
		f.TaskSubnet().Ipv6Native = aws.Bool(true)
		if target != "" {
			rt, _ := f.RouteTableFor(f.Task.SubnetID)
			rt.Routes = append(rt.Routes, ec2types.Route{DestinationIpv6CidrBlock: aws.String("::/0"),
				EgressOnlyInternetGatewayId: aws.String(target), State: ec2types.RouteStateActive})
		}
	}
}
