package fix

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
	"github.com/pullmedic/pullmedic/pkg/report"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

func clock() func() time.Time { return func() time.Time { return fxNow } }

// roundTrips are the snapshot scenarios, one per action.
var roundTrips = []struct {
	name   string
	snap   func(tag string) *account.Snapshot
	task   func() *event.Task
	tag    string
	rule   string
	action string
	// added checks what the fix wrote into the snapshot.
	added func(t *testing.T, s *account.Snapshot)
}{
	{"ingress on the endpoint group", endpointSGClosed, fxTask, "enabled", "network.endpoint-sg", rules.ActionAllowFromTask,
		func(t *testing.T, s *account.Snapshot) {
			in := group(s, "sg-ep").IpPermissions
			if len(in) != 1 || len(in[0].UserIdGroupPairs) != 1 || aws.ToString(in[0].UserIdGroupPairs[0].GroupId) != "sg-task" || len(in[0].IpRanges) != 0 {
				t.Fatalf("sg-ep ingress = %s, want one rule from sg-task", mustJSON(t, in))
			}
			desc := aws.ToString(in[0].UserIdGroupPairs[0].Description)
			want := "pullmedic: allow 443 from task 0f1e2d3c4b5a69788 for network.endpoint-sg at 2026-10-02T14:30:00Z"
			if desc != want {
				t.Errorf("description = %q, want %q", desc, want)
			}
		}},
	{"egress to the endpoints", egressClosedEndpoints, fxTask, "sg-allow-443-egress", "network.task-sg-egress", rules.ActionAllowEgress,
		func(t *testing.T, s *account.Snapshot) {
			var peers []string
			for _, p := range group(s, "sg-task").IpPermissionsEgress {
				if len(p.IpRanges) != 0 {
					t.Errorf("egress to a CIDR on the endpoint design: %s", mustJSON(t, p))
				}
				for _, g := range p.UserIdGroupPairs {
					peers = append(peers, aws.ToString(g.GroupId))
				}
				for _, pl := range p.PrefixListIds {
					peers = append(peers, aws.ToString(pl.PrefixListId))
				}
			}
			slices.Sort(peers)
			if !slices.Equal(peers, []string{"pl-s3", "sg-ep"}) {
				t.Errorf("egress peers = %v, want [pl-s3 sg-ep]", peers)
			}
		}},
	{"egress to the internet behind NAT", egressClosedNAT, fxTask, " SG-ALLOW-443-EGRESS ", "network.task-sg-egress", rules.ActionAllowEgress,
		func(t *testing.T, s *account.Snapshot) {
			out := group(s, "sg-task").IpPermissionsEgress
			if len(out) != 1 || len(out[0].IpRanges) != 1 || aws.ToString(out[0].IpRanges[0].CidrIp) != "0.0.0.0/0" {
				t.Fatalf("sg-task egress = %s, want one rule to 0.0.0.0/0", mustJSON(t, out))
			}
		}},
	{"public IP for the service", publicNoIP, func() *event.Task { return onPublicSubnet(fxTask()) }, "enabled", "network.public-ip", rules.ActionPublicIP,
		func(t *testing.T, s *account.Snapshot) {
			got := s.ECS.Services[0].NetworkConfiguration.AwsvpcConfiguration
			want := &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-pub"}, SecurityGroups: []string{"sg-task"}, AssignPublicIp: ecstypes.AssignPublicIpEnabled}
			if mustJSON(t, got) != mustJSON(t, want) {
				t.Errorf("awsvpcConfiguration = %s, want %s", mustJSON(t, got), mustJSON(t, want))
			}
		}},
}

// Diagnose, remediate, diagnose again (the rule passes), undo: the snapshot
// is byte for byte what it was, also after a trip through JSON in between.
func TestSnapshotRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, tc := range roundTrips {
		t.Run(tc.name, func(t *testing.T) {
			snap, task := tc.snap(tc.tag), tc.task()
			original := mustJSON(t, snap)
			before := report.Build(facts(snap, task))
			if aws.ToString(before.Cause) != tc.rule {
				t.Fatalf("fixture: cause = %q, want %q; report %s", aws.ToString(before.Cause), tc.rule, mustJSON(t, before.Findings))
			}
			res, err := Remediate(ctx, Options{View: snapView{snap}, Writer: NewSnapshotWriter(snap), Who: "cli:test", Now: clock()}, task)
			if err != nil {
				t.Fatal(err)
			}
			if res.Mode != rules.ModeApply || res.Outcome != OutcomeChanged || len(res.Changes) == 0 {
				t.Fatalf("mode %s outcome %s, %d changes; result %s", res.Mode, res.Outcome, len(res.Changes), mustJSON(t, res))
			}
			for _, a := range res.Actions {
				if a.Action != tc.action || a.Status != StatusVerified || a.ChangeID == "" {
					t.Errorf("action %+v, want %s verified with a change ID", a, tc.action)
				}
			}
			after := report.Build(facts(snap, task))
			if f, _ := after.Finding(tc.rule); f.Status != rules.Pass {
				t.Fatalf("after the fix %s is %s: %s", tc.rule, f.Status, f.Message)
			}
			if slices.Contains(res.After.Failing, tc.rule) {
				t.Errorf("result says %s still fails: %v", tc.rule, res.After.Failing)
			}
			tc.added(t, snap)
			for _, c := range res.Changes {
				if c.Who != "cli:test" || c.Why.Rule != tc.rule || c.Why.Task != fxTaskArn || !c.When.Equal(fxNow) || c.Action != tc.action {
					t.Errorf("change record %s", mustJSON(t, c))
				}
			}

			// The CLI writes the snapshot out and undoes later, from the file.
			var reread account.Snapshot
			if err := json.Unmarshal([]byte(mustJSON(t, snap)), &reread); err != nil {
				t.Fatal(err)
			}
			w := NewSnapshotWriter(&reread)
			for _, c := range slices.Backward(res.Changes) {
				if err := Undo(ctx, w, c); err != nil {
					t.Fatal(err)
				}
			}
			if got := mustJSON(t, &reread); got != original {
				t.Errorf("undo did not restore the snapshot:\n%s\nwant\n%s", got, original)
			}
			// Undo twice is harmless.
			for _, c := range res.Changes {
				if err := Undo(ctx, w, c); err != nil {
					t.Errorf("second undo: %v", err)
				}
			}
		})
	}
}

// A second run finds nothing to do and writes nothing.
func TestRemediateTwiceWritesOnce(t *testing.T) {
	ctx := context.Background()
	for _, tc := range roundTrips {
		t.Run(tc.name, func(t *testing.T) {
			snap, task := tc.snap(tc.tag), tc.task()
			w := &countingWriter{Writer: NewSnapshotWriter(snap)}
			o := Options{View: snapView{snap}, Writer: w, Now: clock()}
			if _, err := Remediate(ctx, o, task); err != nil {
				t.Fatal(err)
			}
			first := w.n
			res, err := Remediate(ctx, o, task)
			if err != nil {
				t.Fatal(err)
			}
			if w.n != first || res.Outcome != OutcomeUnchanged || len(res.Changes) != 0 {
				t.Errorf("second run: %d more writes, outcome %s, result %s", w.n-first, res.Outcome, mustJSON(t, res))
			}
		})
	}
}

// The tag decides, read from fresh state; case and spaces are forgiven, a
// sentence is not; dry-run and --force do what they say.
func TestOptIn(t *testing.T) {
	cases := []struct {
		name        string
		tag         string
		dryRun      bool
		force       bool
		mode        string
		status      Status
		wantsWrites bool
	}{
		{"no tag", "", false, false, rules.ModeOff, StatusSkipped, false},
		{"spaces and case", " Enabled ", false, false, rules.ModeApply, StatusVerified, true},
		{"list in mixed case", "SG-ALLOW-443-FROM-TASK, enable-public-ip", false, false, rules.ModeApply, StatusVerified, true},
		{"a sentence", "enabled please", false, false, rules.ModeOff, StatusSkipped, false},
		{"list without the action", "sg-allow-443-from-task", false, false, rules.ModeApply, StatusSkipped, false},
		{"tag dry-run", "dry-run", false, false, rules.ModeDryRun, StatusPlanned, false},
		{"caller dry-run", "enabled", true, false, rules.ModeDryRun, StatusPlanned, false},
		{"force without tag", "", false, true, rules.ModeApply, StatusVerified, true},
		{"force dry-run", "", true, true, rules.ModeDryRun, StatusPlanned, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			snap := publicNoIP(tc.tag)
			w := &countingWriter{Writer: NewSnapshotWriter(snap)}
			res, err := Remediate(context.Background(), Options{View: snapView{snap}, Writer: w, DryRun: tc.dryRun, Force: tc.force, Now: clock()}, onPublicSubnet(fxTask()))
			if err != nil {
				t.Fatal(err)
			}
			if res.Mode != tc.mode {
				t.Errorf("mode = %s, want %s", res.Mode, tc.mode)
			}
			if len(res.Actions) != 1 || res.Actions[0].Status != tc.status {
				t.Fatalf("actions = %s, want one %s", mustJSON(t, res.Actions), tc.status)
			}
			if (w.n > 0) != tc.wantsWrites {
				t.Errorf("%d writes, want writes: %v", w.n, tc.wantsWrites)
			}
		})
	}
}

// A payload that asks for more than a fresh diagnosis plans gets nothing.
func TestForgedRequestIsRefused(t *testing.T) {
	cases := []struct {
		name string
		snap *account.Snapshot
		step rules.Step
	}{
		{"ingress from 0.0.0.0/0 on a healthy service", healthy("enabled"), rules.Step{Action: rules.ActionAllowFromTask, Target: "sg-ep"}}, // its "cidr" parameter no longer decodes: see TestDecodeRequest
		{"egress to 0.0.0.0/0 on the endpoint design", healthy("sg-allow-443-egress"), rules.Step{Action: rules.ActionAllowEgress, Target: "sg-task",
			Params: rules.Params{Destinations: []rules.Destination{{CIDR: "0.0.0.0/0"}}}}},
		{"ingress on a group that is not the endpoint's", endpointSGClosed("enabled"), rules.Step{Action: rules.ActionAllowFromTask, Target: "sg-other"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := &countingWriter{Writer: NewSnapshotWriter(tc.snap)}
			res, err := Remediate(context.Background(), Options{View: snapView{tc.snap}, Writer: w, Now: clock(), Requested: []rules.Step{tc.step}}, fxTask())
			if err != nil {
				t.Fatal(err)
			}
			var refused bool
			for _, a := range res.Actions {
				refused = refused || (a.Target == tc.step.Target && a.Action == tc.step.Action && a.Status == StatusRefused)
			}
			if !refused {
				t.Errorf("the forged step is not refused: %s", mustJSON(t, res.Actions))
			}
			for _, g := range tc.snap.EC2.SecurityGroups {
				for _, p := range slices.Concat(g.IpPermissions, g.IpPermissionsEgress) {
					for _, r := range p.IpRanges {
						if aws.ToString(r.CidrIp) == "0.0.0.0/0" && aws.ToString(p.IpProtocol) == "tcp" {
							t.Errorf("%s got a rule for 0.0.0.0/0", aws.ToString(g.GroupId))
						}
					}
				}
				if aws.ToString(g.GroupId) == "sg-other" && len(g.IpPermissions) > 0 {
					t.Errorf("sg-other was changed: %s", mustJSON(t, g))
				}
			}
		})
	}
}

// Every field of the event but the identity is a hint. Forged subnets, ENIs,
// groups and task ARNs, each aimed at a write the real service does not
// need, lead to a refusal with its reason, and no write at all.
func TestForgedEventFieldsAreRefused(t *testing.T) {
	const pullFailure = "CannotPullContainerError: dial tcp 10.0.9.10:443: i/o timeout"
	recent := func(t *event.Task) *event.Task { t.Time = fxNow.Add(-8 * time.Minute); return t }
	cases := []struct {
		name   string
		snap   func() *account.Snapshot
		task   func() *event.Task
		reason string
	}{
		{"subnet of another VPC, to open its endpoint group", func() *account.Snapshot {
			s := endpointSGClosed("enabled")
			s.EC2.Subnets = append(s.EC2.Subnets, ec2types.Subnet{SubnetId: aws.String("subnet-x"), VpcId: aws.String("vpc-x")})
			return s
		}, func() *event.Task { t := fxTask(); t.SubnetID = "subnet-x"; return t }, `subnet "subnet-x" is not one of service api's subnets`},
		{"public subnet claimed for a private service, to enable a public IP", func() *account.Snapshot { return healthy("enabled") },
			func() *event.Task { return onPublicSubnet(fxTask()) }, `subnet "subnet-pub" is not one of service api's subnets`},
		{"ENI of a database, to open egress on its group", func() *account.Snapshot {
			s := egressClosedNAT("sg-allow-443-egress")
			s.EC2.SecurityGroups = append(s.EC2.SecurityGroups, ec2types.SecurityGroup{GroupId: aws.String("sg-db"), VpcId: aws.String("vpc-1")})
			s.EC2.NetworkInterfaces = []ec2types.NetworkInterface{{NetworkInterfaceId: aws.String("eni-db"), SubnetId: aws.String("subnet-app"),
				Groups: []ec2types.GroupIdentifier{{GroupId: aws.String("sg-db")}}}}
			return s
		}, func() *event.Task { t := fxTask(); t.ENIID = "eni-db"; return t }, "has security group sg-db, which service api does not use"},
		{"a task that does not exist, said to have stopped minutes ago", func() *account.Snapshot { return endpointSGClosed("enabled") },
			func() *event.Task { return recent(fxTask()) }, "ECS does not know task"},
		{"a real task, but the event moves it to another subnet", func() *account.Snapshot {
			s := endpointSGClosed("enabled")
			s.ECS.Services[0].NetworkConfiguration.AwsvpcConfiguration.Subnets = []string{"subnet-app", "subnet-pub"}
			return described(s, fxTask(), pullFailure)
		}, func() *event.Task { return onPublicSubnet(recent(fxTask())) }, `the event's subnet "subnet-pub" is not the task's`},
		{"a real task that stopped for another reason", func() *account.Snapshot {
			return described(endpointSGClosed("enabled"), fxTask(), "Essential container in task exited")
		}, func() *event.Task { return recent(fxTask()) }, "did not stop for an image pull failure"},
		{"a real task of another service", func() *account.Snapshot {
			t := fxTask()
			t.Group = "service:worker"
			return described(endpointSGClosed("enabled"), t, pullFailure)
		}, func() *event.Task { return recent(fxTask()) }, `the event's group "service:api" is not the task's`},
		{"a standalone task", func() *account.Snapshot { return endpointSGClosed("enabled") },
			func() *event.Task { t := fxTask(); t.Group, t.Service = "family:api", ""; return t }, "pullmedic fixes only services"},
		{"a service that was deleted", func() *account.Snapshot {
			s := endpointSGClosed("enabled")
			s.ECS.Services[0].Status = aws.String("INACTIVE")
			return s
		}, func() *event.Task { return fxTask() }, "is not an active service"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			snap := tc.snap()
			w := &countingWriter{Writer: NewSnapshotWriter(snap)}
			res, err := Remediate(context.Background(), Options{View: snapView{snap}, Writer: w, Now: clock(), Force: true}, tc.task())
			if err != nil {
				t.Fatal(err)
			}
			if w.n != 0 {
				t.Errorf("%d writes, want none", w.n)
			}
			if res.Outcome != OutcomeRefused || !strings.Contains(res.Reason, tc.reason) {
				t.Errorf("outcome %s, reason %q; want refused with %q", res.Outcome, res.Reason, tc.reason)
			}
		})
	}
}

// The same real task, described by ECS, is fixed: grounding refuses only
// what live state contradicts.
func TestDescribedTaskIsFixed(t *testing.T) {
	task := fxTask()
	task.Time = fxNow.Add(-8 * time.Minute)
	snap := described(endpointSGClosed("enabled"), task, "CannotPullContainerError: dial tcp 10.0.9.10:443: i/o timeout")
	w := &countingWriter{Writer: NewSnapshotWriter(snap)}
	res, err := Remediate(context.Background(), Options{View: snapView{snap}, Writer: w, Now: clock()}, task)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != OutcomeChanged || w.n != 1 {
		t.Errorf("outcome %s with %d writes, want changed with 1: %s", res.Outcome, w.n, mustJSON(t, res))
	}
}

// The guard rails hold even for a step of a fresh plan.
func TestGuardRails(t *testing.T) {
	endpointFacts := facts(endpointSGClosed("enabled"), fxTask())
	natFacts := facts(egressClosedNAT("enabled"), fxTask())
	privateNAT := facts(egressClosedNAT("enabled"), fxTask())
	privateNAT.EC2.NatGateways[0].ConnectivityType = ec2types.ConnectivityTypePrivate
	privateService := facts(healthy("enabled"), fxTask())
	standaloneTask := facts(publicNoIP("enabled"), onPublicSubnet(fxTask()))
	standaloneTask.Task.Service, standaloneTask.ECS.Services = "", nil
	cases := []struct {
		name   string
		f      *account.Facts
		step   rules.Step
		refuse string // a substring of the refusal; "" means accepted
		check  func(t *testing.T, ops []op)
	}{
		{"ingress on a group that is not an endpoint's", endpointFacts,
			rules.Step{Action: rules.ActionAllowFromTask, Target: "sg-other"}, "not a security group of an interface endpoint", nil},
		{"ingress with a forged group list", endpointFacts,
			rules.Step{Action: rules.ActionAllowFromTask, Target: "sg-ep", Params: rules.Params{GroupIDs: []string{"sg-ep", "sg-other"}}}, "sg-other is not", nil},
		{"ingress from a group that is not the task's", endpointFacts,
			rules.Step{Action: rules.ActionAllowFromTask, Target: "sg-ep", Params: rules.Params{SourceGroupID: "sg-other"}}, "not a security group of service api", nil},
		{"ingress params cannot bring a CIDR", endpointFacts,
			rules.Step{Action: rules.ActionAllowFromTask, Target: "sg-ep", Params: rules.Params{Destinations: []rules.Destination{{CIDR: "0.0.0.0/0"}}}}, "",
			func(t *testing.T, ops []op) {
				if len(ops) != 1 || len(ops[0].perm.IpRanges) != 0 || len(ops[0].perm.PrefixListIds) != 0 ||
					aws.ToString(ops[0].perm.UserIdGroupPairs[0].GroupId) != "sg-task" || aws.ToInt32(ops[0].perm.FromPort) != 443 {
					t.Errorf("ops = %+v, want one group reference from sg-task on 443", ops)
				}
			}},
		{"egress to 0.0.0.0/0 without an internet route", endpointFacts,
			rules.Step{Action: rules.ActionAllowEgress, Target: "sg-task", Params: rules.Params{Destinations: []rules.Destination{{CIDR: "0.0.0.0/0"}}}}, "not allowed", nil},
		{"egress to 0.0.0.0/0 behind a private NAT gateway", privateNAT,
			rules.Step{Action: rules.ActionAllowEgress, Target: "sg-task", Params: rules.Params{Destinations: []rules.Destination{{CIDR: "0.0.0.0/0"}}}}, "not allowed", nil},
		{"egress to another CIDR on an internet route", natFacts,
			rules.Step{Action: rules.ActionAllowEgress, Target: "sg-task", Params: rules.Params{Destinations: []rules.Destination{{CIDR: "10.0.0.0/8"}}}}, "not allowed", nil},
		{"egress to a group that is not an endpoint's", endpointFacts,
			rules.Step{Action: rules.ActionAllowEgress, Target: "sg-task", Params: rules.Params{Destinations: []rules.Destination{{GroupID: "sg-other"}}}}, "not allowed", nil},
		{"egress with two peers in one destination", endpointFacts,
			rules.Step{Action: rules.ActionAllowEgress, Target: "sg-task", Params: rules.Params{Destinations: []rules.Destination{{GroupID: "sg-ep", CIDR: "0.0.0.0/0"}}}}, "not allowed", nil},
		{"egress on a group that is not the task's", endpointFacts,
			rules.Step{Action: rules.ActionAllowEgress, Target: "sg-ep"}, "not the security group of the task", nil},
		{"egress on an internet route goes to 0.0.0.0/0 only", natFacts,
			rules.Step{Action: rules.ActionAllowEgress, Target: "sg-task"}, "",
			func(t *testing.T, ops []op) {
				if len(ops) != 1 || aws.ToString(ops[0].perm.IpRanges[0].CidrIp) != "0.0.0.0/0" || !ops[0].egress {
					t.Errorf("ops = %+v, want one egress to 0.0.0.0/0", ops)
				}
			}},
		{"public IP on a private subnet", privateService,
			rules.Step{Action: rules.ActionPublicIP, Target: fxServiceArn}, "private", nil},
		{"public IP for a standalone task", standaloneTask,
			rules.Step{Action: rules.ActionPublicIP, Target: fxTaskArn}, "only a service", nil},
		{"public IP for another service", facts(publicNoIP("enabled"), onPublicSubnet(fxTask())),
			rules.Step{Action: rules.ActionPublicIP, Target: "arn:aws:ecs:eu-west-1:111122223333:service/prod/other"}, "not the task's service", nil},
		{"public IP for the task's service", facts(publicNoIP("enabled"), onPublicSubnet(fxTask())),
			rules.Step{Action: rules.ActionPublicIP, Target: "api"}, "",
			func(t *testing.T, ops []op) {
				if len(ops) != 1 || ops[0].target != fxServiceArn || ops[0].cluster == "" {
					t.Errorf("ops = %+v, want one on %s with its cluster", ops, fxServiceArn)
				}
			}},
		{"an action outside the vocabulary", endpointFacts, rules.Step{Action: "create-nat-gateway"}, "not a fix action", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ops, err := resolve(tc.f, tc.step, "network.x", fxNow)
			switch {
			case tc.refuse == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.refuse != "" && (err == nil || !strings.Contains(err.Error(), tc.refuse)):
				t.Fatalf("err = %v, ops %+v; want a refusal with %q", err, ops, tc.refuse)
			}
			if tc.check != nil {
				tc.check(t, ops)
			}
		})
	}
}

func TestDescriptionStaysValid(t *testing.T) {
	f := facts(healthy(""), fxTask())
	f.Task.TaskArn = "arn:aws:ecs:eu-west-1:1:task/prod/" + strings.Repeat("é<>", 120)
	d := describe(f, "network.endpoint-sg", fxNow)
	if len(d) > 255 || notAllowed.MatchString(d) || !strings.HasPrefix(d, "pullmedic: allow 443 from task ") {
		t.Errorf("description %q: %d bytes", d, len(d))
	}
}

// The snapshot writer is idempotent and names rules by their content.
func TestSnapshotWriter(t *testing.T) {
	ctx := context.Background()
	snap := healthy("")
	w := NewSnapshotWriter(snap)
	p := perm443(fromGroup("sg-other"))
	ids, err := w.AuthorizeIngress(ctx, "sg-ep", p)
	if err != nil || len(ids) != 1 || !strings.HasPrefix(ids[0], "sgr-pullmedic-") {
		t.Fatalf("ids %v, err %v", ids, err)
	}
	p.UserIdGroupPairs[0].Description = aws.String("another description, same rule")
	if _, err := w.AuthorizeIngress(ctx, "sg-ep", p); !errors.Is(err, ErrAlreadyInState) {
		t.Errorf("second authorize: err = %v, want ErrAlreadyInState", err)
	}
	if _, err := w.AuthorizeEgress(ctx, "sg-missing", p); err == nil {
		t.Error("authorize on a missing group succeeded")
	}
	if err := w.RevokeEgress(ctx, "sg-ep", ids); !errors.Is(err, ErrAlreadyInState) {
		t.Errorf("revoking an ingress ID from egress: err = %v, want ErrAlreadyInState", err)
	}
	if err := w.RevokeIngress(ctx, "sg-ep", ids); err != nil {
		t.Fatal(err)
	}
	if got := mustJSON(t, snap); got != mustJSON(t, healthy("")) {
		t.Errorf("revoke did not restore the group: %s", got)
	}
	if _, _, err := w.SetServicePublicIP(ctx, "prod", "api", ecstypes.AssignPublicIpDisabled); !errors.Is(err, ErrAlreadyInState) {
		t.Errorf("unchanged configuration: err = %v, want ErrAlreadyInState", err)
	}
	if _, _, err := w.SetServicePublicIP(ctx, "other-cluster", "api", ecstypes.AssignPublicIpEnabled); err == nil {
		t.Error("updated a service of another cluster")
	}
}
