package triage_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/pullmedic/pullmedic/pkg/fix"
	"github.com/pullmedic/pullmedic/pkg/notify"
	"github.com/pullmedic/pullmedic/pkg/rules"
	"github.com/pullmedic/pullmedic/pkg/state"
)

// tagged sets the cluster's pullmedic:auto-fix tag in the rig's snapshot.
func (r *rig) tagged(value string) {
	for i := range r.view.snap.ECS.Clusters {
		for j, tag := range r.view.snap.ECS.Clusters[i].Tags {
			if aws.ToString(tag.Key) == rules.TagAutoFix {
				r.view.snap.ECS.Clusters[i].Tags[j].Value = aws.String(value)
			}
		}
	}
}

// On a cluster tagged "approve" the plan goes to Slack with buttons and to
// the state table as an approval, never to remediate: nothing changes until
// a person clicks. The approval holds the request remediate will get.
// Without Slack nobody could click: the plan is notified and that is all.
func TestApproveModePostsButtonsAndFixesNothing(t *testing.T) {
	cases := []struct {
		name      string
		channel   string
		approvals int // notices carrying buttons
	}{
		{"with Slack", notify.ChannelSlack, 1},
		{"SNS only", notify.ChannelSNS, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			r.tagged("approve")
			r.h.Channels[0].Name = tc.channel
			ev := taskEvent(t, "ev-1", "web-0", t0)
			if err := r.handle(t, ev); err != nil {
				t.Fatal(err)
			}
			notices := r.expect(t, notify.Problem)
			if n := r.invoker.count(); n != 0 {
				t.Fatalf("remediate invoked %d times in approve mode", n)
			}
			if got := notices[0].Approval != nil; got != (tc.approvals == 1) {
				t.Fatalf("notice approval %+v, want buttons: %v", notices[0].Approval, tc.approvals == 1)
			}
			if tc.approvals == 0 {
				return
			}
			a := notices[0].Approval
			if !a.ValidUntil.Equal(t0.Add(state.ApprovalTTL)) {
				t.Errorf("approval valid until %s, want an hour", a.ValidUntil)
			}
			// The approve function finds what diagnose stored.
			approvals := &state.Approvals{DB: r.table.DB, Name: r.table.Name, Now: at(time.Minute)}
			got, err := approvals.Decide(context.Background(), a.ID, state.DecisionApply, "U0A")
			if err != nil {
				t.Fatal(err)
			}
			var req fix.Request
			if err := json.Unmarshal([]byte(got.Request), &req); err != nil {
				t.Fatal(err)
			}
			if string(req.Event) != string(ev) || len(req.Plan) != 1 || req.Plan[0].Action != rules.ActionPublicIP ||
				req.Cause != "network.public-ip" || req.ApprovedBy != "" || got.Cluster != "shop" || got.Group != "service:web-0" {
				t.Errorf("stored approval %+v with request %+v", got, req)
			}
		})
	}
}

// The retry of an event whose Slack post failed posts the approval the
// first try stored.
func TestApprovalSurvivesTheRetry(t *testing.T) {
	r := newRig(t)
	r.tagged("approve")
	r.h.Channels[0].Name = notify.ChannelSlack
	r.notices.fail = 1
	ev := taskEvent(t, "ev-1", "web-0", t0)
	if err := r.handle(t, ev); err == nil {
		t.Fatal("a failed Slack post did not fail the invocation")
	}
	r.table.Now = at(2 * time.Minute)
	if err := r.handle(t, ev); err != nil {
		t.Fatal(err)
	}
	n := r.expect(t, notify.Problem)[0]
	if !n.Approval.ValidUntil.Equal(t0.Add(state.ApprovalTTL)) {
		t.Errorf("the retry's buttons say valid until %s, want the first try's %s", n.Approval.ValidUntil, t0.Add(state.ApprovalTTL))
	}
	approvals := &state.Approvals{DB: r.table.DB, Name: r.table.Name, Now: at(3 * time.Minute)}
	got, err := approvals.Decide(context.Background(), n.Approval.ID, state.DecisionDismiss, "U0A")
	if err != nil || !got.PostedAt.Equal(t0) {
		t.Errorf("approval %+v, %v; want the first try's, posted at %s", got, err, t0)
	}
	if n := r.invoker.count(); n != 0 {
		t.Errorf("remediate invoked %d times", n)
	}
}
