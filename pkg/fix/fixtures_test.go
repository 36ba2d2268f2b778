package fix

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

// Fixtures: one VPC (10.0.0.0/16, eu-west-1). The task of service "api" runs
// in subnet-app, whose route table has no default route but an S3 gateway
// endpoint; ECR interface endpoints carry sg-ep. subnet-pub's main route
// table goes to igw-1 and holds nat-1. Every scenario starts healthy and
// breaks one thing.

const (
	fxRegion     = "eu-west-1"
	fxClusterArn = "arn:aws:ecs:eu-west-1:111122223333:cluster/prod"
	fxServiceArn = "arn:aws:ecs:eu-west-1:111122223333:service/prod/api"
	fxTaskArn    = "arn:aws:ecs:eu-west-1:111122223333:task/prod/0f1e2d3c4b5a69788"
	fxImage      = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/api:1.0"
)

var fxNow = time.Date(2026, 10, 2, 14, 30, 0, 0, time.UTC)

func fxTask() *event.Task {
	return &event.Task{
		Account: "111122223333", Region: fxRegion, TaskArn: fxTaskArn, ClusterArn: fxClusterArn,
		TaskDefinitionArn: "arn:aws:ecs:eu-west-1:111122223333:task-definition/api:7",
		Group:             "service:api", Service: "api", LaunchType: "FARGATE", PlatformVersion: "1.4.0",
		StopCode: "TaskFailedToStart", SubnetID: "subnet-app", ENIID: "eni-1", PrivateIP: "10.0.1.23",
		Containers: []event.Container{{Name: "api", Image: fxImage}},
		Failure:    "CannotPullContainerError: dial tcp 10.0.9.10:443: i/o timeout", Class: event.ClassNetwork,
	}
}

func route(cidr string, set func(*ec2types.Route)) ec2types.Route {
	r := ec2types.Route{DestinationCidrBlock: aws.String(cidr), State: ec2types.RouteStateActive}
	set(&r)
	return r
}

func gateway(id string) func(*ec2types.Route) {
	return func(r *ec2types.Route) { r.GatewayId = aws.String(id) }
}

func perm443(set func(*ec2types.IpPermission)) ec2types.IpPermission {
	p := https443()
	set(&p)
	return p
}

func fromGroup(id string) func(*ec2types.IpPermission) {
	return func(p *ec2types.IpPermission) {
		p.UserIdGroupPairs = []ec2types.UserIdGroupPair{{GroupId: aws.String(id)}}
	}
}

func toPrefixList(id string) func(*ec2types.IpPermission) {
	return func(p *ec2types.IpPermission) {
		p.PrefixListIds = []ec2types.PrefixListId{{PrefixListId: aws.String(id)}}
	}
}

var allTraffic = ec2types.IpPermission{IpProtocol: aws.String("-1"), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}

// healthy is the endpoint design with everything in place; tag is the
// cluster's pullmedic:auto-fix value ("" for no tag).
func healthy(tag string) *account.Snapshot {
	s := &account.Snapshot{Schema: account.SchemaV1, Account: "111122223333", Region: fxRegion}
	cluster := ecstypes.Cluster{ClusterArn: aws.String(fxClusterArn), ClusterName: aws.String("prod")}
	if tag != "" {
		cluster.Tags = []ecstypes.Tag{{Key: aws.String(rules.TagAutoFix), Value: aws.String(tag)}}
	}
	s.ECS.Clusters = []ecstypes.Cluster{cluster}
	s.ECS.Services = []ecstypes.Service{{ServiceName: aws.String("api"), ServiceArn: aws.String(fxServiceArn), ClusterArn: aws.String(fxClusterArn),
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: []string{"subnet-app"}, SecurityGroups: []string{"sg-task"}, AssignPublicIp: ecstypes.AssignPublicIpDisabled}}}}
	s.ECS.TaskDefinitions = []ecstypes.TaskDefinition{{TaskDefinitionArn: aws.String(fxTask().TaskDefinitionArn),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("api"), Image: aws.String(fxImage)}}}}
	s.EC2.Vpcs = []ec2types.Vpc{{VpcId: aws.String("vpc-1"), CidrBlock: aws.String("10.0.0.0/16"), DhcpOptionsId: aws.String("default")}}
	s.EC2.VpcAttributes = map[string]account.VPCAttributes{"vpc-1": {EnableDnsSupport: aws.Bool(true), EnableDnsHostnames: aws.Bool(true)}}
	s.EC2.Subnets = []ec2types.Subnet{
		{SubnetId: aws.String("subnet-app"), VpcId: aws.String("vpc-1"), CidrBlock: aws.String("10.0.1.0/24")},
		{SubnetId: aws.String("subnet-pub"), VpcId: aws.String("vpc-1"), CidrBlock: aws.String("10.0.0.0/24")},
		{SubnetId: aws.String("subnet-ep"), VpcId: aws.String("vpc-1"), CidrBlock: aws.String("10.0.9.0/24")},
	}
	s.EC2.RouteTables = []ec2types.RouteTable{
		{RouteTableId: aws.String("rtb-main"), VpcId: aws.String("vpc-1"),
			Associations: []ec2types.RouteTableAssociation{{Main: aws.Bool(true)}},
			Routes:       []ec2types.Route{route("10.0.0.0/16", gateway("local")), route("0.0.0.0/0", gateway("igw-1"))}},
		{RouteTableId: aws.String("rtb-app"), VpcId: aws.String("vpc-1"),
			Associations: []ec2types.RouteTableAssociation{{SubnetId: aws.String("subnet-app")}},
			Routes: []ec2types.Route{route("10.0.0.0/16", gateway("local")),
				{DestinationPrefixListId: aws.String("pl-s3"), GatewayId: aws.String("vpce-s3"), State: ec2types.RouteStateActive}}},
	}
	s.EC2.InternetGateways = []ec2types.InternetGateway{{InternetGatewayId: aws.String("igw-1"),
		Attachments: []ec2types.InternetGatewayAttachment{{VpcId: aws.String("vpc-1"), State: "available"}}}}
	s.EC2.NatGateways = []ec2types.NatGateway{{NatGatewayId: aws.String("nat-1"), VpcId: aws.String("vpc-1"),
		SubnetId: aws.String("subnet-pub"), State: ec2types.NatGatewayStateAvailable, ConnectivityType: ec2types.ConnectivityTypePublic}}
	for _, svc := range []string{"ecr.dkr", "ecr.api"} {
		s.EC2.VpcEndpoints = append(s.EC2.VpcEndpoints, ec2types.VpcEndpoint{
			VpcEndpointId: aws.String("vpce-" + svc), VpcId: aws.String("vpc-1"), VpcEndpointType: ec2types.VpcEndpointTypeInterface,
			ServiceName: aws.String("com.amazonaws.eu-west-1." + svc), State: "available", PrivateDnsEnabled: aws.Bool(true),
			SubnetIds: []string{"subnet-ep"}, Groups: []ec2types.SecurityGroupIdentifier{{GroupId: aws.String("sg-ep")}}})
	}
	s.EC2.VpcEndpoints = append(s.EC2.VpcEndpoints, ec2types.VpcEndpoint{
		VpcEndpointId: aws.String("vpce-s3"), VpcId: aws.String("vpc-1"), VpcEndpointType: ec2types.VpcEndpointTypeGateway,
		ServiceName: aws.String("com.amazonaws.eu-west-1.s3"), State: "available", RouteTableIds: []string{"rtb-app"}})
	s.EC2.PrefixLists = []ec2types.PrefixList{{PrefixListId: aws.String("pl-s3"), PrefixListName: aws.String("com.amazonaws.eu-west-1.s3"),
		Cidrs: []string{"52.218.0.0/17"}}}
	s.EC2.SecurityGroups = []ec2types.SecurityGroup{
		{GroupId: aws.String("sg-task"), VpcId: aws.String("vpc-1"),
			IpPermissionsEgress: []ec2types.IpPermission{perm443(fromGroup("sg-ep")), perm443(toPrefixList("pl-s3"))}},
		{GroupId: aws.String("sg-ep"), VpcId: aws.String("vpc-1"), IpPermissions: []ec2types.IpPermission{perm443(fromGroup("sg-task"))}},
		{GroupId: aws.String("sg-other"), VpcId: aws.String("vpc-1")},
	}
	return s
}

func group(s *account.Snapshot, id string) *ec2types.SecurityGroup {
	for i := range s.EC2.SecurityGroups {
		if aws.ToString(s.EC2.SecurityGroups[i].GroupId) == id {
			return &s.EC2.SecurityGroups[i]
		}
	}
	panic("fixture has no security group " + id)
}

// The broken scenarios, each with the rule that fails and the action that fixes it.

// endpointSGClosed: the endpoints' group does not let the task in.
func endpointSGClosed(tag string) *account.Snapshot {
	s := healthy(tag)
	group(s, "sg-ep").IpPermissions = nil
	return s
}

// egressClosedEndpoints: the task's group lets nothing out, on the endpoint design.
func egressClosedEndpoints(tag string) *account.Snapshot {
	s := healthy(tag)
	group(s, "sg-task").IpPermissionsEgress = nil
	return s
}

// egressClosedNAT: the task's group lets nothing out, behind a NAT gateway without endpoints.
func egressClosedNAT(tag string) *account.Snapshot {
	s := healthy(tag)
	s.EC2.VpcEndpoints = nil
	s.EC2.RouteTables[1].Routes = []ec2types.Route{route("10.0.0.0/16", gateway("local")),
		route("0.0.0.0/0", func(r *ec2types.Route) { r.NatGatewayId = aws.String("nat-1") })}
	group(s, "sg-task").IpPermissionsEgress = nil
	return s
}

// publicNoIP: the service runs in the public subnet without public IPs.
func publicNoIP(tag string) *account.Snapshot {
	s := healthy(tag)
	s.EC2.VpcEndpoints = nil
	group(s, "sg-task").IpPermissionsEgress = []ec2types.IpPermission{allTraffic}
	s.ECS.Services[0].NetworkConfiguration.AwsvpcConfiguration.Subnets = []string{"subnet-pub"}
	return s
}

// onPublicSubnet moves the fixture task to subnet-pub.
func onPublicSubnet(t *event.Task) *event.Task {
	t.SubnetID, t.PrivateIP = "subnet-pub", "10.0.0.23"
	return t
}

// snapView collects from a snapshot that writers may change between collections.
type snapView struct{ snap *account.Snapshot }

func (v snapView) Collect(_ context.Context, t *event.Task) (*account.Facts, error) {
	return &account.Facts{Task: t, Snapshot: *v.snap}, nil
}

// facts are the fixture's facts for resolve tests.
func facts(s *account.Snapshot, t *event.Task) *account.Facts {
	return &account.Facts{Task: t, Snapshot: *s}
}

// countingWriter counts the writes that reach the writer beneath.
type countingWriter struct {
	Writer
	n int
}

func (w *countingWriter) AuthorizeIngress(ctx context.Context, g string, p ec2types.IpPermission) ([]string, error) {
	w.n++
	return w.Writer.AuthorizeIngress(ctx, g, p)
}

func (w *countingWriter) AuthorizeEgress(ctx context.Context, g string, p ec2types.IpPermission) ([]string, error) {
	w.n++
	return w.Writer.AuthorizeEgress(ctx, g, p)
}

func (w *countingWriter) SetServicePublicIP(ctx context.Context, c, s string, assign ecstypes.AssignPublicIp) (before, after *ecstypes.AwsVpcConfiguration, err error) {
	w.n++
	return w.Writer.SetServicePublicIP(ctx, c, s, assign)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// described adds ECS's description of the task to the snapshot, as
// DescribeTasks gives it within the hour after the stop.
func described(s *account.Snapshot, t *event.Task, stoppedReason string) *account.Snapshot {
	kv := func(k, v string) ecstypes.KeyValuePair {
		return ecstypes.KeyValuePair{Name: aws.String(k), Value: aws.String(v)}
	}
	s.ECS.Tasks = append(s.ECS.Tasks, ecstypes.Task{
		TaskArn: aws.String(t.TaskArn), ClusterArn: aws.String(t.ClusterArn), TaskDefinitionArn: aws.String(t.TaskDefinitionArn),
		Group: aws.String(t.Group), LastStatus: aws.String("STOPPED"), StoppedReason: aws.String(stoppedReason),
		Attachments: []ecstypes.Attachment{{Type: aws.String("ElasticNetworkInterface"),
			Details: []ecstypes.KeyValuePair{kv("subnetId", t.SubnetID), kv("networkInterfaceId", t.ENIID)}}},
	})
	return s
}
