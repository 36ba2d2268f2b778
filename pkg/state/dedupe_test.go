package state_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pullmedic/pullmedic/internal/statetest"
	"github.com/pullmedic/pullmedic/pkg/state"
)

var t0 = time.Date(2026, 10, 2, 14, 0, 0, 0, time.UTC)

func at(d time.Duration) func() time.Time { return func() time.Time { return t0.Add(d) } }

// prod is the cluster of the tests, in one account and region.
var prod = state.Cluster{Account: "111122223333", Region: "eu-west-1", Name: "prod"}

var web = state.DedupeKey{Cluster: prod, Group: "service:web", Class: "network"}

func TestClaimEvent(t *testing.T) {
	tbl, _ := statetest.New(t)
	ctx := context.Background()
	steps := []struct {
		name    string
		release bool
		want    bool
	}{
		{"first delivery is claimed", false, true},
		{"redelivery is a duplicate", false, false},
		{"after release the retry is claimed again", true, true},
		{"and is a duplicate again", false, false},
	}
	for _, s := range steps {
		if s.release {
			if err := tbl.ReleaseEvent(ctx, "ev-1"); err != nil {
				t.Fatal(err)
			}
		}
		got, err := tbl.ClaimEvent(ctx, "ev-1")
		if err != nil || got != s.want {
			t.Fatalf("%s: ClaimEvent = %v, %v; want %v", s.name, got, err, s.want)
		}
	}
}

// count calls Count and checks what it did.
func count(t *testing.T, tbl *state.Table, id string, want state.Outcome, wantCount int) *state.Window {
	t.Helper()
	w, err := tbl.Count(context.Background(), web, id, tbl.Now())
	if err != nil {
		t.Fatalf("Count(%s): %v", id, err)
	}
	if w.Outcome != want || w.Count != wantCount {
		t.Fatalf("Count(%s) = outcome %d count %d; want outcome %d count %d", id, w.Outcome, w.Count, want, wantCount)
	}
	return w
}

func TestWindowLifecycle(t *testing.T) {
	tbl, _ := statetest.New(t)
	ctx := context.Background()
	tbl.Now = at(0)

	first := count(t, tbl, "e1", state.Opened, 1)
	if err := tbl.Notified(ctx, first, "network.public-ip"); err != nil {
		t.Fatal(err)
	}
	tbl.Now = at(10 * time.Minute)
	w := count(t, tbl, "e2", state.Counted, 2)
	if w.Cause != "network.public-ip" || !w.Since.Equal(t0) {
		t.Fatalf("counted window: cause %q since %v", w.Cause, w.Since)
	}
	count(t, tbl, "e3", state.Counted, 3)

	// Past the window: the next task rolls it and gets the previous window's tally.
	tbl.Now = at(31 * time.Minute)
	rolled := count(t, tbl, "e4", state.Rolled, 3)
	if rolled.Cause != "network.public-ip" || !rolled.Since.Equal(t0) {
		t.Fatalf("rolled window: cause %q since %v", rolled.Cause, rolled.Since)
	}
	count(t, tbl, "e5", state.Counted, 2)

	// The "still failing" notice failed: undo puts the old window back, keeping e5.
	if err := tbl.Undo(ctx, rolled); err != nil {
		t.Fatal(err)
	}
	count(t, tbl, "e4", state.Rolled, 4)
	count(t, tbl, "e6", state.Counted, 2)
}

func TestUndoOpenedLetsTheRetryOpenAgain(t *testing.T) {
	tbl, _ := statetest.New(t)
	tbl.Now = at(0)
	w := count(t, tbl, "e1", state.Opened, 1)
	if err := tbl.Undo(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	count(t, tbl, "e1", state.Opened, 1)
}

func TestUnnotifiedWindowIsReopenedNotRolled(t *testing.T) {
	tbl, _ := statetest.New(t)
	tbl.Now = at(0)
	count(t, tbl, "e1", state.Opened, 1) // its instance died before notifying
	tbl.Now = at(time.Hour)
	count(t, tbl, "e2", state.Opened, 1)
}

func TestCountIsExactUnderConcurrency(t *testing.T) {
	tbl, _ := statetest.New(t)
	ctx := context.Background()
	run := func(prefix string, n int) map[state.Outcome]int {
		var mu sync.Mutex
		seen := map[state.Outcome]int{}
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				w, err := tbl.Count(ctx, web, fmt.Sprintf("%s-%d", prefix, i), tbl.Now())
				if err != nil {
					t.Error(err)
					return
				}
				if w.Outcome != state.Counted {
					if err := tbl.Notified(ctx, w, "network.route"); err != nil {
						t.Error(err)
					}
				}
				mu.Lock()
				seen[w.Outcome]++
				mu.Unlock()
			})
		}
		wg.Wait()
		return seen
	}
	tbl.Now = at(0)
	if got := run("a", 30); got[state.Opened] != 1 || got[state.Counted] != 29 {
		t.Fatalf("first window: %v; want 1 opened, 29 counted", got)
	}
	tbl.Now = at(time.Hour)
	if got := run("b", 30); got[state.Rolled] != 1 || got[state.Counted] != 29 {
		t.Fatalf("after the window: %v; want 1 rolled, 29 counted", got)
	}
	open, err := tbl.OpenWindows(ctx, prod, "service:web", []string{"network"})
	if err != nil || len(open) != 1 || open[0].Count != 30 {
		t.Fatalf("OpenWindows = %+v, %v; want one window of 30", open, err)
	}
}

func TestOpenWindowsCloseAndReopen(t *testing.T) {
	tbl, _ := statetest.New(t)
	ctx := context.Background()
	tbl.Now = at(0)
	notified := count(t, tbl, "e1", state.Opened, 1)
	if err := tbl.Notified(ctx, notified, "network.public-ip"); err != nil {
		t.Fatal(err)
	}
	// A window whose first diagnosis is still running is not an open problem.
	pending, err := tbl.Count(ctx, state.DedupeKey{Cluster: prod, Group: "service:web", Class: "iam"}, "e2", t0)
	if err != nil || pending.Outcome != state.Opened {
		t.Fatalf("iam window: %+v, %v", pending, err)
	}
	classes := []string{"network", "dns", "iam"}

	open, err := tbl.OpenWindows(ctx, prod, "service:web", classes)
	if err != nil || len(open) != 1 || open[0].Cause != "network.public-ip" || open[0].Key != web {
		t.Fatalf("OpenWindows = %+v, %v; want the notified network window", open, err)
	}
	if closed, err := tbl.Close(ctx, open[0]); err != nil || !closed {
		t.Fatalf("Close = %v, %v; want closed", closed, err)
	}
	if again, _ := tbl.OpenWindows(ctx, prod, "service:web", classes); len(again) != 0 {
		t.Fatalf("closed window still open: %+v", again)
	}
	if err := tbl.Reopen(ctx, open[0]); err != nil {
		t.Fatal(err)
	}
	if again, _ := tbl.OpenWindows(ctx, prod, "service:web", classes); len(again) != 1 {
		t.Fatalf("reopened window missing: %+v", again)
	}
	// A window that is no longer the one read is not closed.
	if closed, err := tbl.Close(ctx, open[0]); err != nil || !closed {
		t.Fatalf("Close = %v, %v; want closed", closed, err)
	}
	count(t, tbl, "e3", state.Opened, 1)
	if closed, err := tbl.Close(ctx, open[0]); err != nil || closed {
		t.Fatalf("Close of a replaced window = %v, %v; want not closed", closed, err)
	}
	// Long after, TTL may not have deleted it yet; it is no longer an open problem.
	tbl.Now = at(state.ProblemMemory + time.Hour)
	if stale, _ := tbl.OpenWindows(ctx, prod, "service:web", classes); len(stale) != 0 {
		t.Fatalf("expired window still open: %+v", stale)
	}
}

func TestMissingTableIsAnError(t *testing.T) {
	tbl, _ := statetest.New(t)
	tbl.Name = "no-such-table"
	ctx := context.Background()
	if _, err := tbl.ClaimEvent(ctx, "e1"); err == nil {
		t.Error("ClaimEvent on a missing table succeeded")
	}
	if _, err := tbl.Count(ctx, web, "e1", t0); err == nil {
		t.Error("Count on a missing table succeeded")
	}
	if _, err := tbl.OpenWindows(ctx, prod, "service:web", []string{"network"}); err == nil {
		t.Error("OpenWindows on a missing table succeeded")
	}
}

// twice sends every write twice and answers with the second answer, as when
// the SDK retries a write whose first try went through but whose answer was lost.
type twice struct{ state.DynamoDB }

func (d twice) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	_, _ = d.DynamoDB.PutItem(ctx, in, opts...)
	return d.DynamoDB.PutItem(ctx, in, opts...)
}

func (d twice) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	_, _ = d.DynamoDB.UpdateItem(ctx, in, opts...)
	return d.DynamoDB.UpdateItem(ctx, in, opts...)
}

func (d twice) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	_, _ = d.DynamoDB.DeleteItem(ctx, in, opts...)
	return d.DynamoDB.DeleteItem(ctx, in, opts...)
}

func TestRetriedWritesCountOnce(t *testing.T) {
	tbl, _ := statetest.New(t)
	tbl.DB = twice{tbl.DB}
	ctx := context.Background()
	tbl.Now = at(0)

	if ok, err := tbl.ClaimEvent(ctx, "e1"); err != nil || !ok {
		t.Fatalf("ClaimEvent = %v, %v; a retried claim is still ours", ok, err)
	}
	if ok, err := tbl.ClaimEvent(ctx, "e1"); err != nil || ok {
		t.Fatalf("second ClaimEvent = %v, %v; want a duplicate", ok, err)
	}
	w := count(t, tbl, "e1", state.Opened, 1)
	if err := tbl.Notified(ctx, w, "network.route"); err != nil {
		t.Fatal(err)
	}
	count(t, tbl, "e2", state.Counted, 2)
	tbl.Now = at(time.Hour)
	// The roll's answer, the previous window, is lost: the task opens afresh.
	count(t, tbl, "e3", state.Opened, 1)
	open, err := tbl.OpenWindows(ctx, prod, "service:web", []string{"network"})
	if err != nil || len(open) != 0 {
		t.Fatalf("OpenWindows = %+v, %v; the new window is not notified yet", open, err)
	}
}
