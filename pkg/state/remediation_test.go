package state_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pullmedic/pullmedic/internal/statetest"
	"github.com/pullmedic/pullmedic/pkg/state"
)

func TestLock(t *testing.T) {
	tbl := newLedger(t)
	tbl.Now = at(0)
	ctx := context.Background()
	unlockA, err := tbl.Lock(ctx, prod, "api", "a", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tbl.Lock(ctx, prod, "api", "b", time.Minute); !errors.Is(err, state.ErrLocked) {
		t.Fatalf("second owner: err = %v, want ErrLocked", err)
	}
	// The SDK's retry of a's write, whose answer was lost, finds the lock a's.
	if _, err := tbl.Lock(ctx, prod, "api", "a", time.Minute); err != nil {
		t.Fatalf("a's own retry: err = %v, want the lock", err)
	}
	if _, err := tbl.Lock(ctx, prod, "web", "b", time.Minute); err != nil {
		t.Fatalf("another service is not locked: %v", err)
	}
	if err := unlockA(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := tbl.Lock(ctx, prod, "api", "b", time.Minute); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	// b crashed: its lock expires and c takes it over; b's late unlock must not free c's lock.
	tbl.Now = at(2 * time.Minute)
	unlockC, err := tbl.Lock(ctx, prod, "api", "c", time.Minute)
	if err != nil {
		t.Fatalf("expired lock not taken over: %v", err)
	}
	if _, err := tbl.Lock(ctx, prod, "api", "d", time.Minute); !errors.Is(err, state.ErrLocked) {
		t.Fatalf("c's lock: err = %v, want ErrLocked", err)
	}
	if err := unlockC(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestLockIsExclusiveUnderConcurrency(t *testing.T) {
	tbl := newLedger(t)
	ctx := context.Background()
	var won, lost atomic.Int32
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			_, err := tbl.Lock(ctx, prod, "api", string(rune('a'+i)), time.Minute)
			switch {
			case err == nil:
				won.Add(1)
			case errors.Is(err, state.ErrLocked):
				lost.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 || lost.Load() != 9 {
		t.Errorf("won %d, lost %d; want 1 and 9", won.Load(), lost.Load())
	}
}

func TestRecentFixes(t *testing.T) {
	tbl := newLedger(t)
	ctx := context.Background()
	for i, h := range []time.Duration{0, time.Hour, 23 * time.Hour} {
		tbl.Now = at(h)
		f := state.Fix{At: t0.Add(h), Cause: "network.endpoint-sg", Verified: true, Changes: []string{fmt.Sprint("chg-", i)}}
		if err := tbl.RecordFix(ctx, prod, "api", f); err != nil {
			t.Fatal(err)
		}
		// A retried request records its fix once.
		if err := tbl.RecordFix(ctx, prod, "api", f); err != nil {
			t.Fatal(err)
		}
	}
	tbl.Now = at(24*time.Hour + 30*time.Minute)
	got, err := tbl.RecentFixes(ctx, prod, "api")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0].At.Equal(t0.Add(time.Hour)) || got[1].Cause != "network.endpoint-sg" || !got[1].Verified || got[1].Changes[0] != "chg-2" {
		t.Errorf("recent fixes = %+v, want the ones of +1h and +23h", got)
	}
	if other, err := tbl.RecentFixes(ctx, prod, "web"); err != nil || len(other) != 0 {
		t.Errorf("another service: %+v, %v", other, err)
	}
}

func TestRecordFixUnderConcurrency(t *testing.T) {
	tbl := newLedger(t)
	tbl.Now = at(0)
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if err := tbl.RecordFix(ctx, prod, "api", state.Fix{At: t0, Cause: "network.public-ip"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got, err := tbl.RecentFixes(ctx, prod, "api"); err != nil || len(got) != 4 {
		t.Errorf("%d fixes recorded (%v), want 4", len(got), err)
	}
}

type record struct {
	ID     string    `json:"changeId"`
	When   time.Time `json:"when"`
	Rules  []string  `json:"securityGroupRuleIds,omitempty"`
	Before struct {
		Assign string `json:"assignPublicIp,omitempty"`
	} `json:"before"`
}

func TestChangeRecords(t *testing.T) {
	tbl := newLedger(t)
	ctx := context.Background()
	in := record{ID: "chg-1", When: t0, Rules: []string{"sgr-1", "sgr-2"}}
	in.Before.Assign = "DISABLED"
	if err := tbl.PutChange(ctx, in.ID, in); err != nil {
		t.Fatal(err)
	}
	// A retried request stores its change again: that succeeds and changes nothing.
	if err := tbl.PutChange(ctx, in.ID, record{ID: "chg-1"}); err != nil {
		t.Errorf("storing a change again: %v", err)
	}
	var out record
	if err := tbl.GetChange(ctx, "chg-1", &out); err != nil {
		t.Fatal(err)
	}
	if out.ID != in.ID || !out.When.Equal(in.When) || len(out.Rules) != 2 || out.Rules[1] != "sgr-2" || out.Before.Assign != "DISABLED" {
		t.Errorf("read back %+v, want %+v", out, in)
	}
	if err := tbl.GetChange(ctx, "chg-none", &out); !errors.Is(err, state.ErrChangeNotFound) {
		t.Errorf("unknown change: err = %v, want ErrChangeNotFound", err)
	}
}

func TestRunRecords(t *testing.T) {
	tbl := newLedger(t)
	ctx := context.Background()
	var out []record
	if found, err := tbl.GetRun(ctx, "evt-1", &out); found || err != nil {
		t.Fatalf("before any write: found %v, err %v", found, err)
	}
	for _, n := range []int{1, 2} { // the second try of a request replaces the first's record
		in := make([]record, n)
		for i := range in {
			in[i] = record{ID: fmt.Sprint("chg-", i), When: t0}
		}
		if err := tbl.PutRun(ctx, "evt-1", struct {
			Intents []record `json:"intents"`
		}{in}); err != nil {
			t.Fatal(err)
		}
	}
	var got struct {
		Intents []record `json:"intents"`
	}
	if found, err := tbl.GetRun(ctx, "evt-1", &got); !found || err != nil || len(got.Intents) != 2 || got.Intents[1].ID != "chg-1" {
		t.Errorf("read back %+v (found %v, err %v), want the second write's two intents", got, found, err)
	}
}

// An unreachable table is an error, never a lock or an empty history: the
// remediation then does not fix (fails closed).
func TestRemediationStateFailsClosed(t *testing.T) {
	tbl := newLedger(t)
	tbl.Name = "no-such-table"
	ctx := context.Background()
	if _, err := tbl.Lock(ctx, prod, "api", "a", time.Minute); err == nil || errors.Is(err, state.ErrLocked) {
		t.Errorf("Lock on a missing table: err = %v", err)
	}
	if _, err := tbl.RecentFixes(ctx, prod, "api"); err == nil {
		t.Error("RecentFixes on a missing table succeeded")
	}
	if err := tbl.RecordFix(ctx, prod, "api", state.Fix{At: t0}); err == nil {
		t.Error("RecordFix on a missing table succeeded")
	}
	if err := tbl.PutChange(ctx, "chg-1", record{}); err == nil {
		t.Error("PutChange on a missing table succeeded")
	}
}

func newLedger(t *testing.T) *state.Ledger {
	tbl, _ := statetest.New(t)
	return statetest.Ledger(tbl)
}
