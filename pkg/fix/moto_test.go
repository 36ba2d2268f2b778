package fix

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/internal/motoserver"
	"github.com/pullmedic/pullmedic/internal/statetest"
	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/account/awscount"
	"github.com/pullmedic/pullmedic/pkg/event"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

// Against moto, through the real SDK. Each test builds its own VPC and
// cluster, so none needs a reset and they may share the server.

const motoRegion = "us-east-1"

var clusterSeq atomic.Int32

// world is a broken service in moto. calls records every AWS call that the
// remediation's clients make, from the SDK's own middleware stack.
type world struct {
	cfg    aws.Config // the remediation's config: every client built from it is counted
	calls  *awscount.CallLog
	ec2    *ec2.Client // setup and inspection, not counted
	ecs    *ecs.Client
	task   *event.Task
	taskSG string
	epSG   string
	svcArn string
}

// must unwraps a setup call. Setup failing means moto misbehaves, so it panics
// (with the call's error) rather than threading t through every call.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// newWorld builds a service whose task cannot pull: on the endpoint design
// with the endpoints' group closed, or (public) in a public subnet without
// public IPs. tag is the cluster's opt-in, "" for none.
func newWorld(t *testing.T, tag string, public bool) *world {
	t.Helper()
	ctx := context.Background()
	base := motoserver.Config(t, motoRegion)
	w := &world{cfg: base.Copy(), calls: awscount.New(), ec2: ec2.NewFromConfig(base), ecs: ecs.NewFromConfig(base)}
	w.calls.Attach(&w.cfg)

	vpc := aws.ToString(must(w.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})).Vpc.VpcId)
	must(w.ec2.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: &vpc, EnableDnsHostnames: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}}))
	subnet := func(cidr string) string {
		return aws.ToString(must(w.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &vpc, CidrBlock: aws.String(cidr)})).Subnet.SubnetId)
	}
	app, epSubnet := subnet("10.0.1.0/24"), subnet("10.0.9.0/24")
	rtb := aws.ToString(must(w.ec2.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: &vpc})).RouteTable.RouteTableId)
	must(w.ec2.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: &rtb, SubnetId: &app}))
	sg := func(name string) string {
		return aws.ToString(must(w.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
			VpcId: &vpc, GroupName: aws.String(name), Description: aws.String(name)})).GroupId)
	}
	w.taskSG, w.epSG = sg("task"), sg("endpoints")

	if public {
		igw := aws.ToString(must(w.ec2.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})).InternetGateway.InternetGatewayId)
		must(w.ec2.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &vpc}))
		must(w.ec2.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &rtb, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: &igw}))
	} else {
		must(w.ec2.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: &vpc, VpcEndpointType: ec2types.VpcEndpointTypeGateway,
			ServiceName: aws.String("com.amazonaws." + motoRegion + ".s3"), RouteTableIds: []string{rtb}}))
		for _, svc := range []string{"ecr.dkr", "ecr.api"} {
			must(w.ec2.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: &vpc, VpcEndpointType: ec2types.VpcEndpointTypeInterface,
				ServiceName: aws.String("com.amazonaws." + motoRegion + "." + svc), SubnetIds: []string{epSubnet},
				SecurityGroupIds: []string{w.epSG}, PrivateDnsEnabled: aws.Bool(true)}))
		}
	}

	cluster := fmt.Sprintf("prod-%d", clusterSeq.Add(1))
	in := &ecs.CreateClusterInput{ClusterName: &cluster}
	if tag != "" {
		in.Tags = []ecstypes.Tag{{Key: aws.String(rules.TagAutoFix), Value: &tag}}
	}
	clusterArn := aws.ToString(must(w.ecs.CreateCluster(ctx, in)).Cluster.ClusterArn)
	image := "123456789012.dkr.ecr." + motoRegion + ".amazonaws.com/api:1.0"
	td := aws.ToString(must(w.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("api"), NetworkMode: ecstypes.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		ContainerDefinitions:    []ecstypes.ContainerDefinition{{Name: aws.String("api"), Image: &image, Memory: aws.Int32(512)}},
	})).TaskDefinition.TaskDefinitionArn)
	w.svcArn = aws.ToString(must(w.ecs.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: &cluster, ServiceName: aws.String("api"), TaskDefinition: &td, DesiredCount: aws.Int32(1), LaunchType: ecstypes.LaunchTypeFargate,
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: []string{app}, SecurityGroups: []string{w.taskSG}, AssignPublicIp: ecstypes.AssignPublicIpDisabled}},
	})).Service.ServiceArn)

	w.task = &event.Task{
		Account: "123456789012", Region: motoRegion, TaskArn: "arn:aws:ecs:us-east-1:123456789012:task/" + cluster + "/4c2b1a0f9e8d7c6b",
		ClusterArn: clusterArn, TaskDefinitionArn: td, Group: "service:api", Service: "api", LaunchType: "FARGATE", PlatformVersion: "1.4.0",
		SubnetID: app, PrivateIP: "10.0.1.23", Containers: []event.Container{{Name: "api", Image: image}},
		Failure: "CannotPullContainerError: dial tcp 10.0.9.10:443: i/o timeout", Class: event.ClassNetwork,
	}
	return w
}

// options wires the remediation to moto: the live View and Writer on the counted config.
func (w *world) options(store Store) Options {
	return Options{View: account.NewLive(w.cfg), Writer: NewLiveWriter(w.cfg), Store: store, Who: "cli:test"}
}

// writes are the calls that were not reads.
func (w *world) writes() []string {
	var out []string
	for _, c := range w.calls.List() {
		if !strings.HasPrefix(c.Operation, "Describe") && !strings.HasPrefix(c.Operation, "Get") && !strings.HasPrefix(c.Operation, "List") {
			out = append(out, c.Service+"."+c.Operation)
		}
	}
	return out
}

// ingressFromTask counts the rules of the endpoints' group that let the task's group in.
func (w *world) ingressFromTask(t *testing.T) int {
	out := must(w.ec2.DescribeSecurityGroupRules(context.Background(), &ec2.DescribeSecurityGroupRulesInput{
		Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: []string{w.epSG}}}}))
	n := 0
	for _, r := range out.SecurityGroupRules {
		if !aws.ToBool(r.IsEgress) && r.ReferencedGroupInfo != nil && aws.ToString(r.ReferencedGroupInfo.GroupId) == w.taskSG {
			n++
		}
	}
	return n
}

func TestMotoIngressAddedOnceWhenRunTwice(t *testing.T) {
	w := newWorld(t, "enabled", false)
	tbl, _ := statetest.New(t)
	store := statetest.Ledger(tbl)
	ctx := context.Background()
	res, err := Remediate(ctx, w.options(store), w.task)
	if err != nil || res.Outcome != OutcomeChanged || len(res.Actions) != 1 || res.Actions[0].Status != StatusVerified || res.Actions[0].Target != w.epSG {
		t.Fatalf("first run: %v %s", err, mustJSON(t, res))
	}
	// The next failed task of the service finds nothing left to do.
	next := *w.task
	next.EventID = "next-event"
	res2, err := Remediate(ctx, w.options(store), &next)
	if err != nil || res2.Outcome != OutcomeUnchanged || len(res2.Changes) != 0 {
		t.Errorf("second run: %v %s", err, mustJSON(t, res2))
	}
	// The same request again (Lambda's retry after a failed publish) writes
	// nothing and reports the change its first try made.
	res3, err := Remediate(ctx, w.options(store), w.task)
	if err != nil || res3.Outcome != OutcomeChanged || len(res3.Changes) != 1 || res3.Changes[0].ChangeID != res.Changes[0].ChangeID {
		t.Errorf("the same request again: %v %s", err, mustJSON(t, res3))
	}
	if n := w.calls.Count("AuthorizeSecurityGroupIngress"); n != 1 {
		t.Errorf("AuthorizeSecurityGroupIngress called %d times, want 1", n)
	}
	if n := w.ingressFromTask(t); n != 1 {
		t.Errorf("%d ingress rules from the task's group, want 1", n)
	}

	// The change is in the table, and undo revokes exactly that rule.
	var c Change
	if err := store.GetChange(ctx, res.Changes[0].ChangeID, &c); err != nil {
		t.Fatal(err)
	}
	if c.Target != w.epSG || len(c.SecurityGroupRuleIDs) != 1 || c.Why.Task != w.task.TaskArn || c.Who != "cli:test" {
		t.Errorf("stored change %s", mustJSON(t, c))
	}
	if err := Undo(ctx, NewLiveUndoer(w.cfg), c); err != nil {
		t.Fatal(err)
	}
	if n := w.ingressFromTask(t); n != 0 {
		t.Errorf("after undo %d ingress rules from the task's group, want 0", n)
	}
	if err := Undo(ctx, NewLiveUndoer(w.cfg), c); err != nil {
		t.Errorf("second undo: %v", err)
	}
}

// Ten identical requests at once (EventBridge and Lambda both deliver at
// least once) make exactly one rule. Each is retried on error as Lambda
// would; every one that reports a change reports the same one.
func TestMotoIngressAddedOnceUnderConcurrency(t *testing.T) {
	w := newWorld(t, "enabled", false)
	tbl, _ := statetest.New(t)
	store := statetest.Ledger(tbl)
	ctx := context.Background()
	var mu sync.Mutex
	outcomes, changeIDs := map[string]int{}, map[string]bool{}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			res, err := Remediate(ctx, w.options(store), w.task)
			for try := 0; err != nil && try < 5; try++ {
				time.Sleep(100 * time.Millisecond)
				res, err = Remediate(ctx, w.options(store), w.task)
			}
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			outcomes[res.Outcome]++
			for _, c := range res.Changes {
				changeIDs[c.ChangeID] = true
			}
		})
	}
	wg.Wait()
	if outcomes[OutcomeChanged] < 1 || outcomes[OutcomeChanged]+outcomes[OutcomeBusy]+outcomes[OutcomeUnchanged] != 10 || len(changeIDs) != 1 {
		t.Errorf("outcomes %v with changes %v, want at least one changed, all the same change", outcomes, changeIDs)
	}
	if n := w.ingressFromTask(t); n != 1 {
		t.Errorf("%d ingress rules from the task's group, want 1", n)
	}
}

// The live writer counts a duplicate rule as success.
func TestMotoDuplicateIsAlreadyInState(t *testing.T) {
	w := newWorld(t, "", false)
	lw := NewLiveUndoer(w.cfg)
	p := perm443(fromGroup(w.taskSG))
	ctx := context.Background()
	ids, err := lw.AuthorizeIngress(ctx, w.epSG, p)
	if err != nil || len(ids) != 1 || !strings.HasPrefix(ids[0], "sgr-") {
		t.Fatalf("rule IDs %v, err %v", ids, err)
	}
	// A retried write finds the rule the first try added, so it can be recorded.
	again, err := lw.AuthorizeIngress(ctx, w.epSG, p)
	if !errors.Is(err, ErrAlreadyInState) || !slices.Equal(again, ids) {
		t.Errorf("duplicate: ids %v, err = %v; want %v and ErrAlreadyInState", again, err, ids)
	}
	if err := lw.RevokeIngress(ctx, w.epSG, []string{"sgr-0123456789abcdef0"}); err != nil && !errors.Is(err, ErrAlreadyInState) {
		t.Errorf("revoking an unknown rule: err = %v", err)
	}
}

func TestMotoPublicIPKeepsSubnetsAndGroups(t *testing.T) {
	w := newWorld(t, "enabled", true)
	ctx := context.Background()
	before := must(w.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: &w.task.ClusterArn, Services: []string{"api"}})).Services[0]
	res, err := Remediate(ctx, w.options(nil), w.task)
	if err != nil || res.Outcome != OutcomeChanged || len(res.Actions) != 1 || res.Actions[0].Status != StatusVerified {
		t.Fatalf("result %v %s", err, mustJSON(t, res))
	}
	if n := w.calls.Count("UpdateService"); n != 1 {
		t.Errorf("UpdateService called %d times, want 1", n)
	}
	after := must(w.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: &w.task.ClusterArn, Services: []string{"api"}})).Services[0]
	b, a := before.NetworkConfiguration.AwsvpcConfiguration, after.NetworkConfiguration.AwsvpcConfiguration
	if a.AssignPublicIp != ecstypes.AssignPublicIpEnabled || !slices.Equal(a.Subnets, b.Subnets) || !slices.Equal(a.SecurityGroups, b.SecurityGroups) {
		t.Errorf("network configuration %s, was %s", mustJSON(t, a), mustJSON(t, b))
	}

	// Someone moves the service to another security group; undo later puts
	// back only assignPublicIp and keeps that group.
	moved := *a
	moved.SecurityGroups = []string{w.epSG}
	must(w.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: &w.task.ClusterArn, Service: aws.String("api"),
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &moved}}))
	if err := Undo(ctx, NewLiveUndoer(w.cfg), res.Changes[0]); err != nil {
		t.Fatal(err)
	}
	undone := must(w.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: &w.task.ClusterArn, Services: []string{"api"}})).Services[0]
	want := moved
	want.AssignPublicIp = b.AssignPublicIp
	if got := undone.NetworkConfiguration.AwsvpcConfiguration; mustJSON(t, got) != mustJSON(t, &want) {
		t.Errorf("after undo %s, want %s", mustJSON(t, got), mustJSON(t, &want))
	}
	if n := w.calls.Count("UpdateService"); n != 2 {
		t.Errorf("UpdateService called %d times in all, want 2 (fix, undo)", n)
	}
}

// Without the tag nothing is written, whatever is broken: the SDK's own
// middleware sees only reads.
func TestMotoNoTagNoWrite(t *testing.T) {
	for _, public := range []bool{false, true} {
		t.Run(fmt.Sprint("public=", public), func(t *testing.T) {
			w := newWorld(t, "", public)
			tbl, _ := statetest.New(t)
			store := statetest.Ledger(tbl)
			res, err := Remediate(context.Background(), w.options(store), w.task)
			if err != nil {
				t.Fatal(err)
			}
			if res.Mode != rules.ModeOff || len(res.Actions) == 0 || res.Actions[0].Status != StatusSkipped {
				t.Errorf("result %s", mustJSON(t, res))
			}
			if w.calls.Calls() == 0 {
				t.Fatal("no calls recorded: the counter is not attached")
			}
			if writes := w.writes(); len(writes) != 0 {
				t.Errorf("write calls without the tag: %v", writes)
			}
		})
	}
}
