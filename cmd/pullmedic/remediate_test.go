package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/fix"
	"github.com/pullmedic/pullmedic/pkg/report"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

// workdir is a scenario copied to a temporary directory, with room for the outputs.
type workdir struct {
	event, snap, fixed, changes, undone string
}

func copyScenario(t *testing.T, name string) workdir {
	t.Helper()
	dir := t.TempDir()
	w := workdir{
		event: filepath.Join(dir, "event.json"), snap: filepath.Join(dir, "snapshot.json"),
		fixed: filepath.Join(dir, "fixed.json"), changes: filepath.Join(dir, "changes.json"),
		undone: filepath.Join(dir, "fixed.undone.json"),
	}
	for src, dst := range map[string]string{"event.json": w.event, "snapshot.json": w.snap} {
		if err := os.WriteFile(dst, []byte(mustRead(t, scenario(name, src))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// apply runs remediate --apply on the copy, with extra flags.
func (w workdir) apply(t *testing.T, extra ...string) result {
	t.Helper()
	args := append([]string{"remediate", "--apply", "--event", w.event, "--snapshot", w.snap, "--out", w.fixed, "--changes", w.changes}, extra...)
	return runCLI(t, "", args...)
}

// normalized is a snapshot file as Load and Marshal write it, so that files
// that say the same compare equal.
func normalized(t *testing.T, path string) string {
	t.Helper()
	snap, err := account.ReadSnapshotFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := snap.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// decodeResult reads a pullmedic.remediation/v1 document strictly.
func decodeResult(t *testing.T, data string) fix.Result {
	t.Helper()
	var res fix.Result
	dec := json.NewDecoder(strings.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("not a remediation result: %v\n%s", err, data)
	}
	if res.Schema != fix.SchemaV1 {
		t.Fatalf("schema %q", res.Schema)
	}
	return res
}

// diagnosis runs diagnose --format json on a snapshot.
func diagnosis(t *testing.T, eventPath, snapPath string) (int, report.Report) {
	t.Helper()
	r := runCLI(t, "", "diagnose", "--format", "json", "--event", eventPath, "--snapshot", snapPath)
	var rep report.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("diagnose: exit %d, %v\nstderr: %s", r.code, err, r.stderr)
	}
	return r.code, rep
}

// undoArgs finds the undo command remediate printed for a change, without "pullmedic".
func undoArgs(t *testing.T, stdout, changeID string) []string {
	t.Helper()
	for line := range strings.Lines(stdout) {
		if _, cmd, ok := strings.Cut(line, "undo: pullmedic "); ok && strings.Contains(line, "change "+changeID) {
			return strings.Fields(cmd)
		}
	}
	t.Fatalf("no undo command for %s in:\n%s", changeID, stdout)
	return nil
}

// Remediate each fixable scenario on a snapshot, diagnose the result (the rule
// passes), then run the undo command remediate printed: the snapshot is back
// to the original.
func TestRemediateApplyAndUndo(t *testing.T) {
	tests := []struct {
		scenario, rule, action string
		force                  bool
	}{
		{"public-subnet-no-public-ip", "network.public-ip", rules.ActionPublicIP, false}, // tagged "enabled"
		{"public-subnet-no-public-ip", "network.public-ip", rules.ActionPublicIP, true},
		{"endpoint-sg-missing-443", "network.endpoint-sg", rules.ActionAllowFromTask, true}, // tagged "dry-run"
		{"task-sg-no-egress", "network.task-sg-egress", rules.ActionAllowEgress, true},      // "enabled" does not name egress
	}
	for _, tc := range tests {
		name := tc.scenario
		if tc.force {
			name += " --force"
		}
		t.Run(name, func(t *testing.T) {
			w := copyScenario(t, tc.scenario)
			original := mustRead(t, w.snap)
			var extra []string
			if tc.force {
				extra = append(extra, "--force")
			}
			t.Setenv("USER", "alice")

			r := w.apply(t, extra...)
			if r.code != exitOK {
				t.Fatalf("remediate: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			if mustRead(t, w.snap) != original {
				t.Error("remediate changed its input snapshot")
			}
			res := decodeResult(t, mustRead(t, w.changes))
			if res.Mode != rules.ModeApply || res.Outcome != fix.OutcomeChanged || len(res.Changes) != 1 || res.After == nil || len(res.After.Failing) != 0 {
				t.Fatalf("result: %s", mustRead(t, w.changes))
			}
			ch := res.Changes[0]
			if ch.Action != tc.action || ch.Why.Rule != tc.rule || ch.Who != "cli:alice" || res.Actions[0].Status != fix.StatusVerified {
				t.Errorf("change %+v, action %+v", ch, res.Actions[0])
			}
			for _, want := range []string{"VERIFIED", tc.action, "change " + ch.ChangeID, "After:  no rule fails"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
				}
			}

			code, rep := diagnosis(t, w.event, w.fixed)
			if f, ok := rep.Finding(tc.rule); code != exitOK || !ok || f.Status != rules.Pass {
				t.Errorf("diagnose of the fixed snapshot: exit %d, %s is %s", code, tc.rule, f.Status)
			}

			args := undoArgs(t, r.stdout, ch.ChangeID)
			wantArgs := []string{"undo", "--change", ch.ChangeID, "--changes", w.changes, "--snapshot", w.fixed, "--out", w.undone}
			if !slices.Equal(args, wantArgs) {
				t.Fatalf("undo command %q, want %q", args, wantArgs)
			}
			u := runCLI(t, "", args...)
			if u.code != exitOK || !strings.Contains(u.stdout, "Undone "+ch.ChangeID) {
				t.Fatalf("undo: exit %d\nstdout:\n%s\nstderr:\n%s", u.code, u.stdout, u.stderr)
			}
			if got, want := normalized(t, w.undone), normalized(t, w.snap); got != want {
				t.Errorf("the undone snapshot differs from the original:\n%s\nwant:\n%s", got, want)
			}
			if code, _ := diagnosis(t, w.event, w.undone); code != exitFailing {
				t.Errorf("diagnose of the undone snapshot: exit %d, want %d", code, exitFailing)
			}
		})
	}
}

// withoutTag writes the copy's snapshot again without the opt-in tag.
func withoutTag(t *testing.T, w workdir) {
	snap, err := account.ReadSnapshotFile(w.snap)
	if err != nil {
		t.Fatal(err)
	}
	for i := range snap.ECS.Clusters {
		snap.ECS.Clusters[i].Tags = slices.DeleteFunc(snap.ECS.Clusters[i].Tags, func(tag ecstypes.Tag) bool {
			return aws.ToString(tag.Key) == rules.TagAutoFix
		})
	}
	data, err := snap.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(w.snap, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Without --force, what the tag does not allow is not applied, and the output says why.
func TestRemediateObeysTag(t *testing.T) {
	tests := []struct {
		name, scenario string
		prepare        func(*testing.T, workdir)
		mode           string
		status         fix.Status
		stdout         []string
	}{
		{"tag absent", "public-subnet-no-public-ip", withoutTag, rules.ModeOff, fix.StatusSkipped,
			[]string{"mode off (the cluster has no valid pullmedic:auto-fix tag; --force applies anyway)", "SKIPPED"}},
		{"tag says dry-run", "endpoint-sg-missing-443", nil, rules.ModeDryRun, fix.StatusPlanned,
			[]string{"mode dry-run (the cluster's pullmedic:auto-fix tag asks for a dry run", "PLANNED"}},
		{"enabled does not name egress", "task-sg-no-egress", nil, rules.ModeApply, fix.StatusSkipped,
			[]string{"SKIPPED", "the cluster's pullmedic:auto-fix tag does not allow sg-allow-443-egress"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := copyScenario(t, tc.scenario)
			if tc.prepare != nil {
				tc.prepare(t, w)
			}
			r := w.apply(t)
			if r.code != exitFailing {
				t.Errorf("exit %d, want %d; stderr: %s", r.code, exitFailing, r.stderr)
			}
			for _, want := range tc.stdout {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
				}
			}
			if strings.Contains(r.stdout, "undo:") {
				t.Errorf("an undo command for a change never made:\n%s", r.stdout)
			}
			res := decodeResult(t, mustRead(t, w.changes))
			if res.Mode != tc.mode || res.Outcome != fix.OutcomeUnchanged || len(res.Changes) != 0 || len(res.Actions) != 1 || res.Actions[0].Status != tc.status {
				t.Errorf("result: %s", mustRead(t, w.changes))
			}
			if normalized(t, w.fixed) != normalized(t, w.snap) {
				t.Error("the snapshot written to --out was changed")
			}
		})
	}
}

func TestRemediateApplyJSON(t *testing.T) {
	w := copyScenario(t, "endpoint-sg-missing-443")
	r := w.apply(t, "--force", "--format", "json")
	if r.code != exitOK {
		t.Fatalf("exit %d, stderr: %s", r.code, r.stderr)
	}
	res := decodeResult(t, r.stdout)
	if r.stdout != mustRead(t, w.changes) {
		t.Error("stdout and the --changes file differ")
	}
	if len(res.Changes) != 1 || len(res.Changes[0].SecurityGroupRuleIDs) != 1 || res.Actions[0].ChangeID != res.Changes[0].ChangeID {
		t.Errorf("result: %s", r.stdout)
	}
}

// Bad input and refused flag combinations change nothing and say what is wrong.
func TestRemediateAndUndoErrors(t *testing.T) {
	w := copyScenario(t, "endpoint-sg-missing-443")
	if r := w.apply(t, "--force"); r.code != exitOK {
		t.Fatalf("setup: exit %d, stderr: %s", r.code, r.stderr)
	}
	changeID := decodeResult(t, mustRead(t, w.changes)).Changes[0].ChangeID
	noDir := filepath.Join(t.TempDir(), "no", "such", "dir", "fixed.json")
	tests := []struct {
		name     string
		args     []string
		code     int
		errLine  string   // stderr is exactly one line starting with it
		errParts []string // substrings of stderr
	}{
		{name: "apply on a snapshot without --out", args: []string{"remediate", "--apply", "--event", w.event, "--snapshot", w.snap},
			code: exitBadInput, errParts: []string{"pullmedic remediate: --out is required with --snapshot --apply", "Usage:"}},
		{name: "live apply without a record", args: []string{"remediate", "--apply", "--event", w.event},
			code: exitBadInput, errParts: []string{"live --apply needs --changes FILE or --table NAME"}},
		{name: "table with a snapshot", args: []string{"remediate", "--apply", "--event", w.event, "--snapshot", w.snap, "--out", w.fixed, "--table", "t"},
			code: exitBadInput, errParts: []string{"--table is for the live account"}},
		{name: "changes without apply", args: []string{"remediate", "--event", w.event, "--changes", w.changes},
			code: exitBadInput, errParts: []string{"--changes and --table need --apply"}},
		{name: "apply with an unreadable snapshot", args: []string{"remediate", "--apply", "--event", w.event, "--snapshot", w.changes, "--out", w.fixed},
			code: exitBadInput, errLine: "pullmedic: " + w.changes + ": "},
		{name: "out not writable", args: []string{"remediate", "--apply", "--force", "--event", w.event, "--snapshot", w.snap, "--out", noDir},
			code: exitError, errLine: "pullmedic: open " + noDir},

		{name: "undo unknown change", args: []string{"undo", "--change", "chg-0000000000000000", "--changes", w.changes, "--snapshot", w.fixed, "--out", w.undone},
			code: exitBadInput, errLine: "pullmedic: " + w.changes + ": no change chg-0000000000000000; it records " + changeID},
		{name: "undo from a snapshot, not a result", args: []string{"undo", "--change", changeID, "--changes", w.snap, "--snapshot", w.fixed, "--out", w.undone},
			code: exitBadInput, errLine: "pullmedic: " + w.snap + `: not a pullmedic.remediation/v1 result (schema "pullmedic.snapshot/v1")`},
		{name: "undo from a missing file", args: []string{"undo", "--change", changeID, "--changes", "testdata/nope.json"},
			code: exitBadInput, errLine: "pullmedic: testdata/nope.json: cannot read: "},
		{name: "undo on a missing snapshot", args: []string{"undo", "--change", changeID, "--changes", w.changes, "--snapshot", "testdata/nope.json", "--out", w.undone},
			code: exitBadInput, errLine: "pullmedic: testdata/nope.json: "},
		{name: "undo without a change", args: []string{"undo", "--changes", w.changes}, code: exitBadInput, errParts: []string{"--change is required", "Usage:"}},
		{name: "undo without a record", args: []string{"undo", "--change", changeID}, code: exitBadInput, errParts: []string{"give one of --changes RESULT.json or --table NAME"}},
		{name: "undo with both records", args: []string{"undo", "--change", changeID, "--changes", w.changes, "--table", "t"}, code: exitBadInput, errParts: []string{"give one of"}},
		{name: "undo snapshot without out", args: []string{"undo", "--change", changeID, "--changes", w.changes, "--snapshot", w.fixed},
			code: exitBadInput, errParts: []string{"--snapshot and --out go together"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.Remove(w.undone); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			r := runCLI(t, "", tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tc.code, r.stdout, r.stderr)
			}
			for _, s := range tc.errParts {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
				}
			}
			if tc.errLine != "" && (strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, tc.errLine)) {
				t.Errorf("stderr should be one line starting %q, got:\n%s", tc.errLine, r.stderr)
			}
			if _, err := os.Stat(w.undone); tc.code != exitOK && err == nil {
				t.Error("a failed undo wrote --out")
			}
		})
	}
}

func TestUndoHelp(t *testing.T) {
	r := runCLI(t, "", "undo", "--help")
	for _, want := range []string{"pullmedic undo --change CHANGE_ID", "-changes", "-table", "-snapshot", "-out", "-region", "Examples:", "Exit codes for undo:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help lacks %q:\n%s", want, r.stdout)
		}
	}
	if r.code != exitOK || !strings.Contains(runCLI(t, "", "--help").stdout, "\n  undo ") {
		t.Errorf("exit %d, or undo missing from the command list", r.code)
	}
}

// An event whose subnet is not the service's is refused with the reason,
// exit 2, and no fixed snapshot is claimed to differ.
func TestRemediateRefusesAForgedSubnet(t *testing.T) {
	w := copyScenario(t, "public-subnet-no-public-ip")
	ev := strings.Replace(mustRead(t, w.event), "subnet-0e9f8a7b6c5d4e3f2", "subnet-0aaaaaaaaaaaaaaaa", 1)
	if err := os.WriteFile(w.event, []byte(ev), 0o644); err != nil {
		t.Fatal(err)
	}
	r := w.apply(t)
	if r.code != 2 || !strings.Contains(r.stderr, `subnet "subnet-0aaaaaaaaaaaaaaaa" is not one of service web's subnets`) {
		t.Errorf("exit %d, stderr %q; want 2 and the reason", r.code, r.stderr)
	}
	if normalized(t, w.fixed) != normalized(t, w.snap) {
		t.Error("the refused remediation changed the snapshot")
	}
}
