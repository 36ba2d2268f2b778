package rules

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
)

// Test fixtures: one VPC (10.0.0.0/16, eu-west-1) with a public subnet
// (subnet-pub, main route table to igw-1, home of nat-1) and a private app
// subnet (subnet-app, explicit rtb-app). natVPC routes the app subnet through
// nat-1; endpointVPC gives it no default route but ECR, logs and S3 endpoints;
// publicVPC places the task in subnet-pub with a public IP.

const (
	fxRegion  = "eu-west-1"
	fxService = "arn:aws:ecs:eu-west-1:111122223333:service/prod/api"
	fxImage   = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/api:1.0"
)

func fxRoute(cidr string, set func(*ec2types.Route)) ec2types.Route {
	r := ec2types.Route{DestinationCidrBlock: aws.String(cidr), State: ec2types.RouteStateActive}
	set(&r)
	return r
}

func viaNAT(id string) func(*ec2types.Route) {
	return func(r *ec2types.Route) { r.NatGatewayId = aws.String(id) }
}

func viaGateway(id string) func(*ec2types.Route) {
	return func(r *ec2types.Route) { r.GatewayId = aws.String(id) }
}

// fxPerm is a TCP 443 permission; set adds its peer.
func fxPerm(set func(*ec2types.IpPermission)) ec2types.IpPermission {
	p := ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443)}
	set(&p)
	return p
}

func toGroup(id string) func(*ec2types.IpPermission) {
	return func(p *ec2types.IpPermission) {
		p.UserIdGroupPairs = append(p.UserIdGroupPairs, ec2types.UserIdGroupPair{GroupId: aws.String(id)})
	}
}

func toCIDR(c string) func(*ec2types.IpPermission) {
	return func(p *ec2types.IpPermission) {
		p.IpRanges = append(p.IpRanges, ec2types.IpRange{CidrIp: aws.String(c)})
	}
}

func toPrefixList(id string) func(*ec2types.IpPermission) {
	return func(p *ec2types.IpPermission) {
		p.PrefixListIds = append(p.PrefixListIds, ec2types.PrefixListId{PrefixListId: aws.String(id)})
	}
}

// allTraffic is the AWS default egress rule.
var allTraffic = ec2types.IpPermission{IpProtocol: aws.String("-1"), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}

func fxACLEntry(n int32, egress bool, proto string, from, to int32, cidr string, action ec2types.RuleAction) ec2types.NetworkAclEntry {
	e := ec2types.NetworkAclEntry{RuleNumber: aws.Int32(n), Egress: aws.Bool(egress), Protocol: aws.String(proto),
		CidrBlock: aws.String(cidr), RuleAction: action}
	if proto != "-1" {
		e.PortRange = &ec2types.PortRange{From: aws.Int32(from), To: aws.Int32(to)}
	}
	return e
}

// openACL is the default ACL: everything allowed both ways, then the implicit deny.
func openACL(id string, isDefault bool, subnets ...string) ec2types.NetworkAcl {
	acl := ec2types.NetworkAcl{NetworkAclId: aws.String(id), VpcId: aws.String("vpc-1"), IsDefault: aws.Bool(isDefault),
		Entries: []ec2types.NetworkAclEntry{
			fxACLEntry(100, true, "-1", 0, 0, "0.0.0.0/0", ec2types.RuleActionAllow),
			fxACLEntry(32767, true, "-1", 0, 0, "0.0.0.0/0", ec2types.RuleActionDeny),
			fxACLEntry(100, false, "-1", 0, 0, "0.0.0.0/0", ec2types.RuleActionAllow),
			fxACLEntry(32767, false, "-1", 0, 0, "0.0.0.0/0", ec2types.RuleActionDeny),
		}}
	for _, s := range subnets {
		acl.Associations = append(acl.Associations, ec2types.NetworkAclAssociation{SubnetId: aws.String(s)})
	}
	return acl
}

// natVPC is the healthy private subnet behind a NAT gateway.
func natVPC() *account.Facts {
	f := &account.Facts{Task: &event.Task{
		Region: fxRegion, TaskArn: "arn:aws:ecs:eu-west-1:111122223333:task/prod/abc",
		ClusterArn: "arn:aws:ecs:eu-west-1:111122223333:cluster/prod", Service: "api",
		TaskDefinitionArn: "arn:aws:ecs:eu-west-1:111122223333:task-definition/api:7",
		LaunchType:        "FARGATE", PlatformVersion: "1.4.0",
		SubnetID: "subnet-app", ENIID: "eni-1", PrivateIP: "10.0.1.23",
		Containers: []event.Container{{Name: "api", Image: fxImage}},
	}}
	f.Region = fxRegion
	f.EC2.Vpcs = []ec2types.Vpc{{VpcId: aws.String("vpc-1"), CidrBlock: aws.String("10.0.0.0/16"), DhcpOptionsId: aws.String("default")}}
	f.EC2.Subnets = []ec2types.Subnet{
		{SubnetId: aws.String("subnet-app"), VpcId: aws.String("vpc-1"), CidrBlock: aws.String("10.0.1.0/24"), AvailabilityZone: aws.String("eu-west-1a")},
		{SubnetId: aws.String("subnet-pub"), VpcId: aws.String("vpc-1"), CidrBlock: aws.String("10.0.0.0/24"), AvailabilityZone: aws.String("eu-west-1a")},
		{SubnetId: aws.String("subnet-ep"), VpcId: aws.String("vpc-1"), CidrBlock: aws.String("10.0.9.0/24"), AvailabilityZone: aws.String("eu-west-1b")},
	}
	f.EC2.RouteTables = []ec2types.RouteTable{
		{RouteTableId: aws.String("rtb-main"), VpcId: aws.String("vpc-1"),
			Associations: []ec2types.RouteTableAssociation{{Main: aws.Bool(true)}},
			Routes:       []ec2types.Route{fxRoute("10.0.0.0/16", viaGateway("local")), fxRoute("0.0.0.0/0", viaGateway("igw-1"))}},
		{RouteTableId: aws.String("rtb-app"), VpcId: aws.String("vpc-1"),
			Associations: []ec2types.RouteTableAssociation{{SubnetId: aws.String("subnet-app")}},
			Routes:       []ec2types.Route{fxRoute("10.0.0.0/16", viaGateway("local")), fxRoute("0.0.0.0/0", viaNAT("nat-1"))}},
	}
	f.EC2.InternetGateways = []ec2types.InternetGateway{{InternetGatewayId: aws.String("igw-1"),
		Attachments: []ec2types.InternetGatewayAttachment{{VpcId: aws.String("vpc-1"), State: "available"}}}}
	f.EC2.NatGateways = []ec2types.NatGateway{{NatGatewayId: aws.String("nat-1"), VpcId: aws.String("vpc-1"),
		SubnetId: aws.String("subnet-pub"), State: ec2types.NatGatewayStateAvailable, ConnectivityType: ec2types.ConnectivityTypePublic}}
	f.EC2.SecurityGroups = []ec2types.SecurityGroup{{GroupId: aws.String("sg-task"), VpcId: aws.String("vpc-1"),
		IpPermissionsEgress: []ec2types.IpPermission{allTraffic}}}
	f.EC2.NetworkAcls = []ec2types.NetworkAcl{openACL("acl-default", true)}
	f.ECS.Services = []ecstypes.Service{{ServiceName: aws.String("api"), ServiceArn: aws.String(fxService),
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: []string{"subnet-app"}, SecurityGroups: []string{"sg-task"}, AssignPublicIp: ecstypes.AssignPublicIpDisabled}}}}
	f.ECS.TaskDefinitions = []ecstypes.TaskDefinition{{TaskDefinitionArn: aws.String(f.Task.TaskDefinitionArn),
		ExecutionRoleArn: aws.String("arn:aws:iam::111122223333:role/api-exec"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("api"), Image: aws.String(fxImage),
			LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs}}}}}
	return f
}

// endpointVPC is the healthy endpoint design: no default route, ECR, logs and S3 endpoints.
func endpointVPC() *account.Facts {
	f := natVPC()
	rt := fxRouteTable(f, "rtb-app")
	rt.Routes = []ec2types.Route{fxRoute("10.0.0.0/16", viaGateway("local")),
		{DestinationPrefixListId: aws.String("pl-s3"), GatewayId: aws.String("vpce-s3"), State: ec2types.RouteStateActive}}
	f.EC2.VpcAttributes = map[string]account.VPCAttributes{"vpc-1": {EnableDnsSupport: aws.Bool(true), EnableDnsHostnames: aws.Bool(true)}}
	for _, svc := range []string{"ecr.dkr", "ecr.api", "logs"} {
		f.EC2.VpcEndpoints = append(f.EC2.VpcEndpoints, ec2types.VpcEndpoint{
			VpcEndpointId: aws.String("vpce-" + strings.ReplaceAll(svc, ".", "-")), VpcId: aws.String("vpc-1"),
			VpcEndpointType: ec2types.VpcEndpointTypeInterface, ServiceName: aws.String(serviceName(fxRegion, svc)),
			State: "available", PrivateDnsEnabled: aws.Bool(true), SubnetIds: []string{"subnet-ep"},
			Groups: []ec2types.SecurityGroupIdentifier{{GroupId: aws.String("sg-ep")}}})
	}
	f.EC2.VpcEndpoints = append(f.EC2.VpcEndpoints, ec2types.VpcEndpoint{
		VpcEndpointId: aws.String("vpce-s3"), VpcId: aws.String("vpc-1"), VpcEndpointType: ec2types.VpcEndpointTypeGateway,
		ServiceName: aws.String(serviceName(fxRegion, "s3")), State: "available", RouteTableIds: []string{"rtb-app"}})
	f.EC2.PrefixLists = []ec2types.PrefixList{{PrefixListId: aws.String("pl-s3"), PrefixListName: aws.String(serviceName(fxRegion, "s3")),
		Cidrs: []string{"52.218.0.0/17", "3.5.64.0/21"}}}
	f.EC2.SecurityGroups = []ec2types.SecurityGroup{
		{GroupId: aws.String("sg-task"), VpcId: aws.String("vpc-1"),
			IpPermissionsEgress: []ec2types.IpPermission{fxPerm(toGroup("sg-ep")), fxPerm(toPrefixList("pl-s3"))}},
		{GroupId: aws.String("sg-ep"), VpcId: aws.String("vpc-1"),
			IpPermissions: []ec2types.IpPermission{fxPerm(toGroup("sg-task"))}},
	}
	return f
}

// publicVPC is the healthy public subnet: main route table to igw-1, public IP on.
func publicVPC() *account.Facts {
	f := natVPC()
	f.Task.SubnetID = "subnet-pub"
	f.Task.PrivateIP = "10.0.0.23"
	cfg := f.ECS.Services[0].NetworkConfiguration.AwsvpcConfiguration
	cfg.Subnets = []string{"subnet-pub"}
	cfg.AssignPublicIp = ecstypes.AssignPublicIpEnabled
	return f
}

// standalone turns the task into one started by RunTask, with its ENI known.
func standalone(f *account.Facts, publicIP bool) {
	f.Task.Service = ""
	f.ECS.Services = nil
	eni := ec2types.NetworkInterface{NetworkInterfaceId: aws.String(f.Task.ENIID), SubnetId: aws.String(f.Task.SubnetID),
		Groups: []ec2types.GroupIdentifier{{GroupId: aws.String("sg-task")}}}
	if publicIP {
		eni.Association = &ec2types.NetworkInterfaceAssociation{PublicIp: aws.String("34.1.2.3")}
	}
	f.EC2.NetworkInterfaces = []ec2types.NetworkInterface{eni}
}

func fxRouteTable(f *account.Facts, id string) *ec2types.RouteTable {
	for i := range f.EC2.RouteTables {
		if aws.ToString(f.EC2.RouteTables[i].RouteTableId) == id {
			return &f.EC2.RouteTables[i]
		}
	}
	panic("fixture has no route table " + id)
}

func fxEndpoint(f *account.Facts, id string) *ec2types.VpcEndpoint {
	for i := range f.EC2.VpcEndpoints {
		if aws.ToString(f.EC2.VpcEndpoints[i].VpcEndpointId) == id {
			return &f.EC2.VpcEndpoints[i]
		}
	}
	panic("fixture has no endpoint " + id)
}

// defaultRouteOf returns the fixture table's 0.0.0.0/0 route for mutation.
func defaultRouteOf(f *account.Facts, rtID string) *ec2types.Route {
	r := defaultRoute(fxRouteTable(f, rtID))
	if r == nil {
		panic("fixture route table has no default route " + rtID)
	}
	return r
}

// ruleCase is one row of a rule's table test.
type ruleCase struct {
	name   string
	facts  func() *account.Facts
	status Status
	msg    string                    // a substring the message must hold
	check  func(*testing.T, Finding) // further assertions, optional
}

// with builds facts from a base fixture and a mutation.
func with(base func() *account.Facts, mut func(*account.Facts)) func() *account.Facts {
	return func() *account.Facts {
		f := base()
		mut(f)
		return f
	}
}

// failedRead records a failed read on a base fixture.
func failedRead(base func() *account.Facts, src account.Source) func() *account.Facts {
	return with(base, func(f *account.Facts) { f.Fail(src, errAccessDenied) })
}

type fxError string

func (e fxError) Error() string { return string(e) }

const errAccessDenied = fxError("AccessDenied: not authorized")

func runRuleCases(t *testing.T, r Rule, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fd := r.run(tc.facts())
			if fd.Rule != r.ID {
				t.Errorf("rule = %q, want %q", fd.Rule, r.ID)
			}
			if fd.Status != tc.status {
				t.Fatalf("status = %s, want %s; message %q; evidence %v", fd.Status, tc.status, fd.Message, fd.Evidence)
			}
			if !strings.Contains(fd.Message, tc.msg) {
				t.Errorf("message %q does not hold %q", fd.Message, tc.msg)
			}
			if fd.Status == Fail && fd.Advice == "" {
				t.Errorf("a fail carries no advice")
			}
			if tc.check != nil {
				tc.check(t, fd)
			}
		})
	}
}
