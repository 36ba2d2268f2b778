package fix

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/internal/statetest"
	"github.com/pullmedic/pullmedic/pkg/state"
)

// The lock, the circuit breaker and the audit records, on the state table in
// moto, with the public-IP scenario in a snapshot.
func TestBreaker(t *testing.T) {
	verified := state.Fix{At: fxNow.Add(-time.Hour), Cause: "network.public-ip", Verified: true}
	other := state.Fix{At: fxNow.Add(-time.Hour), Cause: "network.endpoint-sg"}
	cases := []struct {
		name    string
		history []state.Fix
		max     int
		outcome string
	}{
		{"first fix", nil, 0, OutcomeChanged},
		{"the same cause after a verified fix", []state.Fix{verified}, 0, OutcomeEscalate},
		{"the same cause after an unverified fix", []state.Fix{{At: verified.At, Cause: verified.Cause}}, 0, OutcomeChanged},
		{"three fixes today", []state.Fix{other, other, other}, 0, OutcomeCircuitOpen},
		{"three fixes today, five allowed", []state.Fix{other, other, other}, 5, OutcomeChanged},
		{"three fixes yesterday", []state.Fix{{At: fxNow.Add(-25 * time.Hour)}, {At: fxNow.Add(-26 * time.Hour)}, {At: fxNow.Add(-27 * time.Hour)}}, 0, OutcomeChanged},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			tbl, _ := statetest.New(t)
			store := statetest.Ledger(tbl)
			store.Now = clock()
			for _, f := range tc.history {
				if err := store.RecordFix(ctx, Cluster(fxTask()), "api", f); err != nil {
					t.Fatal(err)
				}
			}
			snap := publicNoIP("enabled")
			w := &countingWriter{Writer: NewSnapshotWriter(snap)}
			res, err := Remediate(ctx, Options{View: snapView{snap}, Writer: w, Store: store, Now: clock(), MaxFixesPerDay: tc.max}, onPublicSubnet(fxTask()))
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tc.outcome {
				t.Fatalf("outcome = %s, want %s; result %s", res.Outcome, tc.outcome, mustJSON(t, res))
			}
			if tc.outcome != OutcomeChanged {
				if w.n != 0 || res.Actions[0].Status != StatusSkipped {
					t.Errorf("%d writes, actions %s; want none, skipped", w.n, mustJSON(t, res.Actions))
				}
				return
			}
			recent, err := store.RecentFixes(ctx, Cluster(fxTask()), "api")
			if err != nil {
				t.Fatal(err)
			}
			last := recent[len(recent)-1]
			if len(recent) != len(tc.history)-countOld(tc.history)+1 || last.Cause != "network.public-ip" || !last.Verified || last.Changes[0] != res.Changes[0].ChangeID {
				t.Errorf("recorded fixes %+v", recent)
			}
			var c Change
			if err := store.GetChange(ctx, res.Changes[0].ChangeID, &c); err != nil {
				t.Fatal(err)
			}
			if mustJSON(t, c) != mustJSON(t, res.Changes[0]) {
				t.Errorf("stored change %s, want %s", mustJSON(t, c), mustJSON(t, res.Changes[0]))
			}
			if _, err := store.Lock(ctx, Cluster(fxTask()), "api", "next", time.Minute); err != nil {
				t.Errorf("the lock was not released: %v", err)
			}
		})
	}
}

func countOld(h []state.Fix) int {
	n := 0
	for _, f := range h {
		if !f.At.After(fxNow.Add(-state.FixWindow)) {
			n++
		}
	}
	return n
}

// A held lock means another run is at work: this one writes nothing.
func TestBusyServiceIsLeftAlone(t *testing.T) {
	ctx := context.Background()
	tbl, _ := statetest.New(t)
	store := statetest.Ledger(tbl)
	if _, err := store.Lock(ctx, Cluster(fxTask()), "api", "other-run", time.Minute); err != nil {
		t.Fatal(err)
	}
	snap := publicNoIP("enabled")
	w := &countingWriter{Writer: NewSnapshotWriter(snap)}
	res, err := Remediate(ctx, Options{View: snapView{snap}, Writer: w, Store: store}, onPublicSubnet(fxTask()))
	if err != nil || res.Outcome != OutcomeBusy || w.n != 0 {
		t.Errorf("err %v, %d writes, result %s", err, w.n, mustJSON(t, res))
	}
}

// An unreachable table means no fix at all.
func TestUnreachableTableFailsClosed(t *testing.T) {
	tbl, _ := statetest.New(t)
	store := statetest.Ledger(tbl)
	store.Name = "no-such-table"
	snap := publicNoIP("enabled")
	w := &countingWriter{Writer: NewSnapshotWriter(snap)}
	res, err := Remediate(context.Background(), Options{View: snapView{snap}, Writer: w, Store: store}, onPublicSubnet(fxTask()))
	if err == nil || res != nil || w.n != 0 {
		t.Errorf("err %v, %d writes, result %v; want an error and no write", err, w.n, res)
	}
}

// noopWriter reports success and changes nothing: the fix cannot verify.
type noopWriter struct{ *SnapshotWriter }

func (noopWriter) AuthorizeIngress(context.Context, string, ec2types.IpPermission) ([]string, error) {
	return []string{"sgr-1"}, nil
}

func (noopWriter) SetServicePublicIP(context.Context, string, string, ecstypes.AssignPublicIp) (before, after *ecstypes.AwsVpcConfiguration, err error) {
	return &ecstypes.AwsVpcConfiguration{}, &ecstypes.AwsVpcConfiguration{AssignPublicIp: ecstypes.AssignPublicIpEnabled}, nil
}

// failingWriter fails every write.
type failingWriter struct{ *SnapshotWriter }

func (failingWriter) SetServicePublicIP(context.Context, string, string, ecstypes.AssignPublicIp) (before, after *ecstypes.AwsVpcConfiguration, err error) {
	return nil, nil, errors.New("AccessDenied: not authorized to perform ecs:UpdateService")
}

func TestUnverifiedAndFailedWrites(t *testing.T) {
	cases := []struct {
		name    string
		writer  func(*SnapshotWriter) Writer
		status  Status
		changes int
		reason  string
		err     string // a failed write is an error, so that Lambda retries it
	}{
		{"not verified, not rolled back", func(s *SnapshotWriter) Writer { return noopWriter{s} }, StatusNotVerified, 1, "network.public-ip is fail", ""},
		{"failed", func(s *SnapshotWriter) Writer { return failingWriter{s} }, StatusFailed, 0, "AccessDenied", "AccessDenied"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			snap := publicNoIP("enabled")
			res, err := Remediate(context.Background(), Options{View: snapView{snap}, Writer: tc.writer(NewSnapshotWriter(snap)), Now: clock()}, onPublicSubnet(fxTask()))
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
			a := res.Actions[0]
			if a.Status != tc.status || len(res.Changes) != tc.changes || !strings.Contains(a.Reason, tc.reason) {
				t.Errorf("action %+v with %d changes; want %s, %d changes, reason with %q", a, len(res.Changes), tc.status, tc.changes, tc.reason)
			}
		})
	}
}
