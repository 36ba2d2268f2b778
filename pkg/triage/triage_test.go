package triage_test

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/internal/statetest"
	"github.com/pullmedic/pullmedic/pkg/fix"
	"github.com/pullmedic/pullmedic/pkg/notify"
	"github.com/pullmedic/pullmedic/pkg/state"
	"github.com/pullmedic/pullmedic/pkg/triage"
)

type rig struct {
	h       *triage.Handler
	table   *state.Table
	view    *countingView
	notices *recorder
	invoker *invoker
}

// newRig wires the handler to a fresh state table in moto, the scenario
// snapshot with one failing service web-0, and recording fakes.
func newRig(t *testing.T) *rig {
	tbl, _ := statetest.New(t)
	tbl.Now = at(0)
	r := &rig{table: tbl, view: &countingView{snap: services(t, 1, ecstypes.AssignPublicIpDisabled)}, notices: &recorder{}, invoker: &invoker{}}
	r.h = &triage.Handler{
		View: r.view, State: tbl, Channels: notify.Channels{{Name: "test", Notifier: r.notices}}, Invoker: r.invoker, Remediate: "pullmedic-remediate",
		Metrics: notify.NewMetrics(discard{}), Log: quiet,
	}
	return r
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func (r *rig) handle(t *testing.T, raw []byte) error {
	t.Helper()
	return r.h.Handle(context.Background(), raw)
}

// expect checks the kinds of the notices sent since the last call.
func (r *rig) expect(t *testing.T, kinds ...notify.Kind) []*notify.Notice {
	t.Helper()
	got := r.notices.take()
	var gotKinds []notify.Kind
	for _, n := range got {
		gotKinds = append(gotKinds, n.Kind)
	}
	if !reflect.DeepEqual(gotKinds, kinds) {
		t.Fatalf("notices %v; want %v", gotKinds, kinds)
	}
	return got
}

func TestDroppedEvents(t *testing.T) {
	r := newRig(t)
	read := func(path string) []byte {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	cases := []struct {
		name string
		raw  []byte
	}{
		{"not JSON", []byte("{")},
		{"a running task", read("../event/testdata/running-fargate-docs-sample.json")},
		{"a user stop, not a pull failure", read("../event/testdata/stopped-user-stop.json")},
		{"another deployment state", deploymentEvent("d1", "web-0", "SERVICE_DEPLOYMENT_IN_PROGRESS", t0)},
		{"a deployment of an old-format service ARN", []byte(`{"detail-type": "ECS Deployment State Change", "source": "aws.ecs",
			"resources": ["arn:aws:ecs:eu-west-1:111122223333:service/web-0"], "detail": {"eventName": "SERVICE_DEPLOYMENT_COMPLETED"}}`)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := r.handle(t, c.raw); err != nil {
				t.Fatalf("Handle = %v; a bad or irrelevant event must not be retried", err)
			}
			r.expect(t)
			if n := r.view.calls.Load(); n != 0 {
				t.Fatalf("%d diagnoses", n)
			}
		})
	}
}

func TestWindowStillFailingAndResolvedByDiagnosis(t *testing.T) {
	r := newRig(t)
	if err := r.handle(t, taskEvent(t, "e1", "web-0", t0)); err != nil {
		t.Fatal(err)
	}
	first := r.expect(t, notify.Problem)[0]
	if first.CauseID() != "network.public-ip" || first.Report == nil || len(first.Links) == 0 {
		t.Fatalf("problem notice: cause %q, links %v", first.CauseID(), first.Links)
	}
	r.table.Now = at(10 * time.Minute)
	for _, id := range []string{"e2", "e3", "e2"} { // e2 twice: a redelivery
		if err := r.handle(t, taskEvent(t, id, "web-0", t0.Add(10*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	r.expect(t)

	r.table.Now = at(31 * time.Minute)
	if err := r.handle(t, taskEvent(t, "e4", "web-0", t0.Add(31*time.Minute))); err != nil {
		t.Fatal(err)
	}
	still := r.expect(t, notify.StillFailing)[0]
	if still.Count != 3 || !still.Since.Equal(t0) {
		t.Fatalf("still failing: %d tasks since %v; want 3 since %v", still.Count, still.Since, t0)
	}

	// A diagnosis that cannot run every check proves nothing resolved.
	gone := services(t, 1, ecstypes.AssignPublicIpEnabled)
	gone.ECS.Services = nil
	r.view.set(gone)
	r.table.Now = at(62 * time.Minute)
	if err := r.handle(t, taskEvent(t, "e5", "web-0", t0.Add(62*time.Minute))); err != nil {
		t.Fatal(err)
	}
	r.expect(t, notify.StillFailing)

	// Someone fixed the service; the next task that failed meanwhile finds nothing failing.
	r.view.set(services(t, 1, ecstypes.AssignPublicIpEnabled))
	r.table.Now = at(93 * time.Minute)
	if err := r.handle(t, taskEvent(t, "e6", "web-0", t0.Add(93*time.Minute))); err != nil {
		t.Fatal(err)
	}
	resolved := r.expect(t, notify.Resolved)[0]
	if resolved.Cause != "network.public-ip" || resolved.Count != 1 {
		t.Fatalf("resolved: cause %q count %d; want the last cause found and 1 task", resolved.Cause, resolved.Count)
	}
	if open, err := r.table.OpenWindows(context.Background(), shop, "service:web-0", []string{"network"}); err != nil || len(open) != 0 {
		t.Fatalf("resolved window still open: %v, %v", open, err)
	}
	if got := r.view.calls.Load(); got != 4 {
		t.Errorf("%d diagnoses; want 4 (open, then three rolls)", got)
	}
}

func TestDeploymentResolves(t *testing.T) {
	r := newRig(t)
	if err := r.handle(t, taskEvent(t, "e1", "web-0", t0)); err != nil {
		t.Fatal(err)
	}
	r.expect(t, notify.Problem)
	r.table.Now = at(5 * time.Minute)
	if err := r.handle(t, taskEvent(t, "e2", "web-0", t0.Add(5*time.Minute))); err != nil {
		t.Fatal(err)
	}

	r.table.Now = at(20 * time.Minute)
	done := deploymentEvent("d1", "web-0", "SERVICE_DEPLOYMENT_COMPLETED", t0.Add(20*time.Minute))
	for range 2 { // the second is a redelivery
		if err := r.handle(t, done); err != nil {
			t.Fatal(err)
		}
	}
	n := r.expect(t, notify.Resolved)[0]
	if n.Cause != "network.public-ip" || n.Count != 2 || !n.Since.Equal(t0) || n.Reason != "deployment ecs-svc/d1 completed" {
		t.Fatalf("resolved notice: %+v", n)
	}
	// Nothing is open any more: a later deployment says nothing, a new failure is a new problem.
	if err := r.handle(t, deploymentEvent("d2", "web-0", "SERVICE_DEPLOYMENT_COMPLETED", t0.Add(21*time.Minute))); err != nil {
		t.Fatal(err)
	}
	r.expect(t)
	if err := r.handle(t, taskEvent(t, "e3", "web-0", t0.Add(22*time.Minute))); err != nil {
		t.Fatal(err)
	}
	r.expect(t, notify.Problem)
}

// A fix outside a deployment (a security group) brings no deployment event:
// the service's steady state says "resolved" instead.
func TestSteadyStateResolves(t *testing.T) {
	r := newRig(t)
	if err := r.handle(t, taskEvent(t, "e1", "web-0", t0)); err != nil {
		t.Fatal(err)
	}
	r.expect(t, notify.Problem)

	r.table.Now = at(10 * time.Minute)
	if err := r.handle(t, serviceActionEvent("s0", "web-0", "SERVICE_TASK_PLACEMENT_FAILURE", t0.Add(10*time.Minute))); err != nil {
		t.Fatal(err)
	}
	r.expect(t) // another service action says nothing and resolves nothing

	r.table.Now = at(20 * time.Minute)
	if err := r.handle(t, serviceActionEvent("s1", "web-0", "SERVICE_STEADY_STATE", t0.Add(20*time.Minute))); err != nil {
		t.Fatal(err)
	}
	n := r.expect(t, notify.Resolved)[0]
	if n.Cause != "network.public-ip" || n.Count != 1 || !n.Since.Equal(t0) || n.Reason != "the service reached a steady state" {
		t.Fatalf("resolved notice: %+v", n)
	}
	// ECS repeats steady state; with nothing open it says nothing.
	if err := r.handle(t, serviceActionEvent("s2", "web-0", "SERVICE_STEADY_STATE", t0.Add(21*time.Minute))); err != nil {
		t.Fatal(err)
	}
	r.expect(t)
}

func TestDeploymentResolvedNoticeIsRetried(t *testing.T) {
	r := newRig(t)
	if err := r.handle(t, taskEvent(t, "e1", "web-0", t0)); err != nil {
		t.Fatal(err)
	}
	r.expect(t, notify.Problem)
	done := deploymentEvent("d1", "web-0", "SERVICE_DEPLOYMENT_COMPLETED", t0.Add(time.Minute))
	r.notices.fail = 1
	if err := r.handle(t, done); err == nil {
		t.Fatal("Handle succeeded although the notice failed")
	}
	if err := r.handle(t, done); err != nil { // Lambda's retry
		t.Fatal(err)
	}
	r.expect(t, notify.Resolved)
}

// A failed invocation takes back its claim and its count, so Lambda's retry
// runs again; it keeps its delivery records, so the retry sends only what did
// not go out.
func TestFailuresLeaveNoTrace(t *testing.T) {
	cases := []struct {
		name        string
		breakIt     func(r *rig)
		retrySends  []notify.Kind
		wantInvokes int
	}{
		{"the notice fails", func(r *rig) { r.notices.fail = 1 }, []notify.Kind{notify.Problem}, 1},
		{"the remediate invocation fails", func(r *rig) { r.invoker.fail = 1 }, nil, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t)
			c.breakIt(r)
			ev := taskEvent(t, "e1", "web-0", t0)
			if err := r.handle(t, ev); err == nil {
				t.Fatal("Handle succeeded; the event would not be retried")
			}
			r.notices.take()
			if err := r.handle(t, ev); err != nil { // Lambda's retry
				t.Fatal(err)
			}
			r.expect(t, c.retrySends...)
			if r.invoker.count() != c.wantInvokes {
				t.Fatalf("%d remediate invocations; want %d", r.invoker.count(), c.wantInvokes)
			}
			// The retry opened the window afresh: the next task is counted, not notified.
			if err := r.handle(t, taskEvent(t, "e2", "web-0", t0)); err != nil {
				t.Fatal(err)
			}
			r.expect(t)
		})
	}
}

func TestRemediatePayload(t *testing.T) {
	r := newRig(t)
	ev := taskEvent(t, "e1", "web-0", t0)
	if err := r.handle(t, ev); err != nil {
		t.Fatal(err)
	}
	n := r.expect(t, notify.Problem)[0]
	if r.invoker.count() != 1 {
		t.Fatalf("%d remediate invocations; want 1", r.invoker.count())
	}
	// The remediate function decodes it strictly.
	req, task, err := fix.DecodeRequest(r.invoker.payloads[0])
	if err != nil {
		t.Fatal(err)
	}
	sent, _ := json.Marshal(req.Plan)
	planned, _ := json.Marshal(n.Report.Plan)
	if req.Cause != "network.public-ip" || string(sent) != string(planned) || task.EventID != "e1" {
		t.Fatalf("remediate request: cause %q plan %+v event %q", req.Cause, req.Plan, task.EventID)
	}
}

func TestNoRemediationWithoutOptIn(t *testing.T) {
	r := newRig(t)
	snap := services(t, 1, ecstypes.AssignPublicIpDisabled)
	snap.ECS.Clusters[0].Tags = []ecstypes.Tag{{Key: aws.String("team"), Value: aws.String("shop")}}
	r.view.set(snap)
	if err := r.handle(t, taskEvent(t, "e1", "web-0", t0)); err != nil {
		t.Fatal(err)
	}
	if n := r.expect(t, notify.Problem)[0]; n.AutoFix() != "off" || len(n.Report.Plan) == 0 {
		t.Fatalf("autoFix %q, plan %v; want off with a plan", n.AutoFix(), n.Report.Plan)
	}
	if r.invoker.count() != 0 {
		t.Fatalf("%d remediate invocations without the tag", r.invoker.count())
	}
}

// A cause that comes back after a verified fix is escalated to a person in
// the notice, and remediate is not invoked to fix it again.
func TestEscalationAfterVerifiedFix(t *testing.T) {
	cases := []struct {
		name      string
		fix       state.Fix
		escalated bool
	}{
		{"the same cause, verified", state.Fix{At: t0.Add(-2 * time.Hour), Cause: "network.public-ip", Verified: true, Changes: []string{"chg-1"}}, true},
		{"the same cause, not verified", state.Fix{At: t0.Add(-2 * time.Hour), Cause: "network.public-ip", Changes: []string{"chg-1"}}, false},
		{"another cause, verified", state.Fix{At: t0.Add(-2 * time.Hour), Cause: "network.endpoint-sg", Verified: true, Changes: []string{"chg-1"}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t)
			if err := statetest.Ledger(r.table).RecordFix(context.Background(), shop, "web-0", c.fix); err != nil {
				t.Fatal(err)
			}
			if err := r.handle(t, taskEvent(t, "e1", "web-0", t0)); err != nil {
				t.Fatal(err)
			}
			n := r.expect(t, notify.Problem)[0]
			if got := n.Escalation != nil; got != c.escalated {
				t.Fatalf("escalated %v; want %v", got, c.escalated)
			}
			if c.escalated && (!n.Escalation.FixedAt.Equal(c.fix.At) || n.Escalation.Changes[0] != "chg-1" || n.Attributes()["escalated"] != "true") {
				t.Errorf("escalation %+v, attributes %v", n.Escalation, n.Attributes())
			}
			if want := map[bool]int{true: 0, false: 1}[c.escalated]; r.invoker.count() != want {
				t.Errorf("%d remediate invocations; want %d", r.invoker.count(), want)
			}
		})
	}
}
