package state_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pullmedic/pullmedic/internal/statetest"
	"github.com/pullmedic/pullmedic/pkg/state"
)

// A hub serves many accounts and regions, whose cluster names repeat: the
// same name elsewhere must never share a window, a lock, a fix count or a
// notice's delivery records.
func TestSameClusterNameElsewhereSharesNothing(t *testing.T) {
	for _, tt := range []struct {
		name  string
		other state.Cluster
	}{
		{"another account", state.Cluster{Account: "444455556666", Region: prod.Region, Name: prod.Name}},
		{"another region", state.Cluster{Account: prod.Account, Region: "us-east-1", Name: prod.Name}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tbl, _ := statetest.New(t)
			tbl.Now = at(0)
			ledger := statetest.Ledger(tbl)
			ctx := context.Background()

			here, err := tbl.Count(ctx, web, "e-here", t0)
			if err != nil || here.Outcome != state.Opened {
				t.Fatalf("Count here = %+v, %v; want Opened", here, err)
			}
			there, err := tbl.Count(ctx, state.DedupeKey{Cluster: tt.other, Group: web.Group, Class: web.Class}, "e-there", t0)
			if err != nil || there.Outcome != state.Opened || there.Count != 1 {
				t.Errorf("Count there = %+v, %v; want a window of its own (Opened, 1 task)", there, err)
			}
			if here.NoticeID("problem") == there.NoticeID("problem") {
				t.Errorf("both windows' notices are %q", here.NoticeID("problem"))
			}

			if _, err := ledger.Lock(ctx, prod, "web", "a", time.Minute); err != nil {
				t.Fatal(err)
			}
			if _, err := ledger.Lock(ctx, tt.other, "web", "b", time.Minute); errors.Is(err, state.ErrLocked) || err != nil {
				t.Errorf("Lock there = %v; want its own lock", err)
			}

			if err := ledger.RecordFix(ctx, prod, "web", state.Fix{At: t0, Cause: "network.public-ip", Changes: []string{"c1"}}); err != nil {
				t.Fatal(err)
			}
			if got, err := ledger.RecentFixes(ctx, tt.other, "web"); err != nil || len(got) != 0 {
				t.Errorf("RecentFixes there = %v, %v; want none", got, err)
			}
			if got, err := ledger.RecentFixes(ctx, prod, "web"); err != nil || len(got) != 1 {
				t.Errorf("RecentFixes here = %v, %v; want the one fix", got, err)
			}
		})
	}
}
