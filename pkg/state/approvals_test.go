package state_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pullmedic/pullmedic/internal/statetest"
	"github.com/pullmedic/pullmedic/pkg/state"
)

// An approval gets exactly one decision, within its hour; a retry of the
// diagnose invocation that posted it keeps that decision; a decision to
// apply that could not be handed on can be taken back by its maker.
func TestApprovalLifecycle(t *testing.T) {
	tbl, _ := statetest.New(t)
	tbl.Now = at(0)
	approvals := &state.Approvals{DB: tbl.DB, Name: tbl.Name, Now: at(0)}
	ctx := context.Background()
	id := state.ApprovalID("ev-1#problem")
	put := func() {
		t.Helper()
		if err := tbl.PutApproval(ctx, &state.Approval{ID: id, Request: `{"event":{}}`, Cluster: "prod", Group: "service:web", Cause: "network.endpoint-sg"}); err != nil {
			t.Fatal(err)
		}
	}
	put()

	steps := []struct {
		name     string
		at       time.Duration
		id       string
		decision state.Decision
		by       string
		undo     bool // Undecide(id, by) instead
		want     error
		wantBy   string // who the returned record says decided
	}{
		{"unknown approval", time.Minute, state.ApprovalID("other"), state.DecisionApply, "U1", false, state.ErrApprovalNotFound, ""},
		{"not an approval ID", time.Minute, "approval#x", state.DecisionApply, "U1", false, state.ErrApprovalNotFound, ""},
		{"first click applies", time.Minute, id, state.DecisionApply, "U1", false, nil, "U1"},
		{"replayed click", 2 * time.Minute, id, state.DecisionApply, "U1", false, state.ErrApprovalDecided, "U1"},
		{"a second person dismisses", 3 * time.Minute, id, state.DecisionDismiss, "U2", false, state.ErrApprovalDecided, "U1"},
		{"another person cannot take it back", 4 * time.Minute, id, "", "U2", true, nil, ""},
		{"still decided by U1", 4 * time.Minute, id, state.DecisionDismiss, "U2", false, state.ErrApprovalDecided, "U1"},
		{"the hand-off failed: taken back", 5 * time.Minute, id, "", "U1", true, nil, ""},
		{"then dismissed", 6 * time.Minute, id, state.DecisionDismiss, "U2", false, nil, "U2"},
		{"past the hour", 61 * time.Minute, id, state.DecisionApply, "U1", false, state.ErrApprovalDecided, "U2"},
	}
	for _, s := range steps {
		approvals.Now = at(s.at)
		if s.undo {
			if err := approvals.Undecide(ctx, s.id, s.by); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			continue
		}
		got, err := approvals.Decide(ctx, s.id, s.decision, s.by)
		if !errors.Is(err, s.want) {
			t.Fatalf("%s: error %v, want %v", s.name, err, s.want)
		}
		if s.wantBy == "" {
			if got != nil {
				t.Errorf("%s: got a record %+v, want none", s.name, got)
			}
			continue
		}
		if got == nil || got.DecidedBy != s.wantBy || got.Request != `{"event":{}}` || got.Cause != "network.endpoint-sg" {
			t.Errorf("%s: record %+v, want decided by %s with the stored request", s.name, got, s.wantBy)
		}
	}

	// The retry of the diagnose invocation puts the approval again: the
	// dismissal stays.
	put()
	approvals.Now = at(7 * time.Minute)
	if got, err := approvals.Decide(ctx, id, state.DecisionApply, "U1"); !errors.Is(err, state.ErrApprovalDecided) || got.Decision != state.DecisionDismiss {
		t.Errorf("after a second put: %+v, %v; want the dismissal kept", got, err)
	}
}

func TestApprovalExpires(t *testing.T) {
	tbl, _ := statetest.New(t)
	tbl.Now = at(0)
	ctx := context.Background()
	id := state.ApprovalID("ev-2#still-failing")
	if err := tbl.PutApproval(ctx, &state.Approval{ID: id, Request: "{}"}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		at   time.Duration
		want error
	}{
		{"an hour and a second later", time.Hour + time.Second, state.ErrApprovalExpired},
		{"exactly at the hour", time.Hour, state.ErrApprovalExpired},
		{"a second before", time.Hour - time.Second, nil},
	}
	for _, tc := range cases {
		approvals := &state.Approvals{DB: tbl.DB, Name: tbl.Name, Now: at(tc.at)}
		got, err := approvals.Decide(ctx, id, state.DecisionApply, "U1")
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if got == nil || !got.ValidUntil.Equal(t0.Add(state.ApprovalTTL)) {
			t.Errorf("%s: record %+v, want valid until %s", tc.name, got, t0.Add(state.ApprovalTTL))
		}
	}
}

func TestPutApprovalRefusesABadID(t *testing.T) {
	tbl, _ := statetest.New(t)
	if err := tbl.PutApproval(context.Background(), &state.Approval{ID: "approval#1"}); err == nil {
		t.Error("an approval with a malformed ID was stored")
	}
}
