package report

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
)

// scenarioFacts collects a bundled scenario offline and records failed reads.
func scenarioFacts(t *testing.T, name string, failed map[account.Source]string) *account.Facts {
	t.Helper()
	dir := filepath.Join("..", "..", "examples", "scenarios", name)
	data, err := os.ReadFile(filepath.Join(dir, "event.json"))
	if err != nil {
		t.Fatal(err)
	}
	task, err := event.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := account.ReadSnapshotFile(filepath.Join(dir, "snapshot.json"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := account.SnapshotView{Snap: snap}.Collect(context.Background(), task)
	if err != nil {
		t.Fatal(err)
	}
	f.Errors = failed
	return f
}

func TestBuildInconclusive(t *testing.T) {
	throttled := map[account.Source]string{account.SrcDHCPOptions: "ThrottlingException: Rate exceeded"}
	tests := []struct {
		name         string
		scenario     string
		failed       map[account.Source]string
		inconclusive bool
		unchecked    []string // rule IDs
	}{
		{"healthy", "healthy-nat", nil, false, nil},
		{"healthy but a read failed", "healthy-nat", throttled, true, []string{"dns.dhcp-options"}},
		// A failing rule is a cause; the read that failed is still listed.
		{"failing and a read failed", "no-route", throttled, false, []string{"dns.dhcp-options"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Build(scenarioFacts(t, tc.scenario, tc.failed))
			var got []string
			for _, u := range r.Unchecked {
				got = append(got, u.Rule)
				if !strings.Contains(u.Reason, "ThrottlingException") {
					t.Errorf("%s: reason %q does not name the failed read", u.Rule, u.Reason)
				}
				if u.LeavesOpen() == "" {
					t.Errorf("%s: nothing said about what stays open", u.Rule)
				}
			}
			if r.Inconclusive != tc.inconclusive || !slices.Equal(got, tc.unchecked) {
				t.Errorf("inconclusive %v, unchecked %v; want %v, %v", r.Inconclusive, got, tc.inconclusive, tc.unchecked)
			}

			// The JSON carries the fields only when they say something.
			data, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]json.RawMessage
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			if _, ok := doc["inconclusive"]; ok != tc.inconclusive {
				t.Errorf("JSON has inconclusive: %v, want %v", ok, tc.inconclusive)
			}
			if _, ok := doc["unchecked"]; ok != (len(tc.unchecked) > 0) {
				t.Errorf("JSON has unchecked: %v, want %v", ok, len(tc.unchecked) > 0)
			}
		})
	}
}
