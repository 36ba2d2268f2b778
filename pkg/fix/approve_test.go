package fix

import (
	"context"
	"strings"
	"testing"

	"github.com/pullmedic/pullmedic/pkg/rules"
)

// On a cluster tagged "approve", only a request that names its approver
// applies, and every change records the approver. An approval never widens
// what the cluster's tag allows: without the tag, or with a dry run, it
// changes nothing.
func TestApproveMode(t *testing.T) {
	cases := []struct {
		name, tag, approvedBy string
		dryRun                bool
		mode                  string
		status                Status
		writes                bool
	}{
		{"approve, not approved: planned only", "approve", "", false, rules.ModeApprove, StatusPlanned, false},
		{"approve, approved", " Approve ", "slack:U0A", false, rules.ModeApply, StatusVerified, true},
		{"enabled and approved", "enabled", "slack:U0A", false, rules.ModeApply, StatusVerified, true},
		{"approved, but the tag is gone", "", "slack:U0A", false, rules.ModeOff, StatusSkipped, false},
		{"approved, but the tag says dry-run", "dry-run", "slack:U0A", false, rules.ModeDryRun, StatusPlanned, false},
		{"approved, asked for a dry run", "approve", "slack:U0A", true, rules.ModeDryRun, StatusPlanned, false},
		{"approved, a typo in the tag", "aprove", "slack:U0A", false, rules.ModeOff, StatusSkipped, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			snap := publicNoIP(tc.tag)
			w := &countingWriter{Writer: NewSnapshotWriter(snap)}
			res, err := Remediate(context.Background(), Options{View: snapView{snap}, Writer: w, DryRun: tc.dryRun, ApprovedBy: tc.approvedBy, Who: "test", Now: clock()}, onPublicSubnet(fxTask()))
			if err != nil {
				t.Fatal(err)
			}
			if res.Mode != tc.mode || len(res.Actions) != 1 || res.Actions[0].Status != tc.status {
				t.Fatalf("mode %s, actions %s; want %s and one %s", res.Mode, mustJSON(t, res.Actions), tc.mode, tc.status)
			}
			if (w.n > 0) != tc.writes {
				t.Errorf("%d writes, want writes: %v", w.n, tc.writes)
			}
			for _, c := range res.Changes {
				if c.Why.ApprovedBy != tc.approvedBy || c.Who != "test" {
					t.Errorf("change %s: who %q, approved by %q; want test, approved by %q", c.ChangeID, c.Who, c.Why.ApprovedBy, tc.approvedBy)
				}
			}
		})
	}
}

func TestDecodeApprovedRequest(t *testing.T) {
	cases := []struct {
		name   string
		fields map[string]any
		err    string
	}{
		{"approved, with where to answer", map[string]any{"approvedBy": "slack:U0A", "responseUrl": "https://hooks.slack.com/actions/T/1/x"}, ""},
		{"approved, no answer", map[string]any{"approvedBy": "slack:U0A"}, ""},
		{"an answer without an approver", map[string]any{"responseUrl": "https://hooks.slack.com/actions/T/1/x"}, `"responseUrl" without "approvedBy"`},
		{"an answer that is not a URL", map[string]any{"approvedBy": "slack:U0A", "responseUrl": "file:///etc/passwd"}, "not an http(s) URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _, err := DecodeRequest(request(t, tc.fields))
			if tc.err == "" {
				if err != nil || req.ApprovedBy != tc.fields["approvedBy"] {
					t.Fatalf("DecodeRequest = %+v, %v", req, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("err = %v, want %q", err, tc.err)
			}
		})
	}
}
