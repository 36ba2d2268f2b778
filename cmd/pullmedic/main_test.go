package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/pullmedic/pullmedic/pkg/report"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

const scenarios = "../../examples/scenarios/"

func scenario(name, file string) string { return scenarios + name + "/" + file }

type result struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

// truncatedEvent writes the first half of a real event.
func truncatedEvent(t *testing.T) string { return truncatedFile(t, "event.json") }

// truncatedFile writes the first half of a file of the healthy-nat scenario.
func truncatedFile(t *testing.T, file string) string {
	data, err := os.ReadFile(scenario("healthy-nat", file))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "truncated-"+file)
	if err := os.WriteFile(path, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// unreadableDHCPSnapshot writes the healthy-nat snapshot without its DHCP
// options: the rule that needs them cannot be evaluated, and nothing fails.
func unreadableDHCPSnapshot(t *testing.T) string {
	var snap map[string]any
	if err := json.Unmarshal([]byte(mustRead(t, scenario("healthy-nat", "snapshot.json"))), &snap); err != nil {
		t.Fatal(err)
	}
	delete(snap["ec2"].(map[string]any), "dhcpOptions")
	data, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "snapshot-no-dhcp.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExitCodesAndOutput(t *testing.T) {
	truncated, truncSnap := truncatedEvent(t), truncatedFile(t, "snapshot.json")
	noDHCP := unreadableDHCPSnapshot(t)
	tests := []struct {
		name      string
		args      []string
		stdin     string
		code      int
		stdout    []string // substrings
		notStdout []string
		errLine   string   // when set: stderr is exactly one line starting with it
		errParts  []string // substrings of stderr
	}{
		{name: "healthy", args: []string{"diagnose", "--event", scenario("healthy-nat", "event.json"), "--snapshot", scenario("healthy-nat", "snapshot.json")},
			code: exitOK, stdout: []string{"No failing check:", fmt.Sprintf("Checks (%d)", len(rules.Catalog))}},
		{name: "a read failed", args: []string{"diagnose", "--event", scenario("healthy-nat", "event.json"), "--snapshot", noDHCP},
			code: exitInconclusive,
			stdout: []string{"Inconclusive: 1 check could not be evaluated because a read failed.",
				"Could not check\n  dns.dhcp-options: could not be evaluated: DHCP options set dopt-05b1c2d3e4f5a6b7c not found\n    unknown: ",
				"ERROR   dns.dhcp-options"},
			notStdout: []string{"No failing check"}},
		{name: "remediate when a read failed", args: []string{"remediate", "--event", scenario("healthy-nat", "event.json"), "--snapshot", noDHCP},
			code: exitInconclusive, stdout: []string{"Inconclusive:", "dns.dhcp-options"}, notStdout: []string{"No failing check"}},
		{name: "failing", args: []string{"diagnose", "--event", scenario("no-route", "event.json"), "--snapshot", scenario("no-route", "snapshot.json")},
			code: exitFailing, stdout: []string{"Cause network.route:", "FAIL"}},
		{name: "event from stdin", args: []string{"diagnose", "--event", "-", "--snapshot", scenario("no-route", "snapshot.json")},
			stdin: mustRead(t, scenario("no-route", "event.json")), code: exitFailing, stdout: []string{"Cause network.route:"}},
		{name: "truncated event", args: []string{"diagnose", "--event", truncated, "--snapshot", scenario("healthy-nat", "snapshot.json")},
			code: exitBadInput, errLine: "pullmedic: " + truncated + ": "},
		{name: "truncated event on stdin", args: []string{"diagnose", "--event", "-"}, stdin: "{\"version\": \"0\", \"detail-type\": ",
			code: exitBadInput, errLine: "pullmedic: standard input: "},
		{name: "missing event file", args: []string{"diagnose", "--event", "testdata/nope.json"},
			code: exitBadInput, errLine: "pullmedic: testdata/nope.json: cannot read: "},
		{name: "wrong detail-type", args: []string{"diagnose", "--event", "testdata/wrong-detail-type.json", "--snapshot", scenario("healthy-nat", "snapshot.json")},
			code: exitBadInput, errLine: "pullmedic: testdata/wrong-detail-type.json: ", errParts: []string{"ECS Container Instance State Change"}},
		{name: "running task", args: []string{"diagnose", "--event", "testdata/running.json"},
			code: exitBadInput, errLine: "pullmedic: testdata/running.json: ", errParts: []string{"RUNNING"}},
		{name: "truncated snapshot", args: []string{"diagnose", "--event", scenario("healthy-nat", "event.json"), "--snapshot", truncSnap},
			code: exitBadInput, errLine: "pullmedic: " + truncSnap + ":", errParts: []string{"invalid JSON: unexpected end of JSON input"}},
		{name: "snapshot with wrong types", args: []string{"diagnose", "--event", scenario("healthy-nat", "event.json"), "--snapshot", "testdata/snapshot-wrong-types.json"},
			code: exitBadInput, errLine: "pullmedic: testdata/snapshot-wrong-types.json: "},
		{name: "missing snapshot", args: []string{"diagnose", "--event", scenario("healthy-nat", "event.json"), "--snapshot", "testdata/nope.json"},
			code: exitBadInput, errLine: "pullmedic: testdata/nope.json: "},
		// The snapshot is not even read when the event has nothing to diagnose.
		{name: "not a pull failure", args: []string{"diagnose", "--event", "testdata/not-a-pull-failure.json", "--snapshot", "testdata/nope.json"},
			code: exitOK, stdout: []string{"nothing to diagnose"}},
		{name: "bad format", args: []string{"diagnose", "--event", "x.json", "--format", "xml"},
			code: exitBadInput, errParts: []string{`--format must be text, json or markdown, not "xml"`, "Usage:"}},
		{name: "markdown", args: []string{"diagnose", "--format", "markdown", "--event", scenario("no-route", "event.json"), "--snapshot", scenario("no-route", "snapshot.json")},
			code: exitFailing, stdout: []string{"### ❌ Task `shop/", "**Cause** `network.route`", "```mermaid\nflowchart LR\n", "| ❌ fail | `network.route` |"}},
		{name: "markdown when a read failed", args: []string{"diagnose", "--format", "markdown", "--event", scenario("healthy-nat", "event.json"), "--snapshot", noDHCP},
			code: exitInconclusive, stdout: []string{": inconclusive\n", "#### Could not check"}},
		{name: "nothing to diagnose in markdown", args: []string{"diagnose", "--format", "markdown", "--event", "testdata/not-a-pull-failure.json"},
			code: exitOK, stdout: []string{"nothing to diagnose"}},
		{name: "remediate plan in markdown", args: []string{"remediate", "--format", "markdown", "--event", scenario("no-route", "event.json"), "--snapshot", scenario("no-route", "snapshot.json")},
			code: exitFailing, stdout: []string{"**Cause** `network.route`", "```mermaid\nflowchart LR\n"}},
		{name: "remediate --apply prints no markdown", args: []string{"remediate", "--apply", "--format", "markdown", "--event", "x.json"},
			code: exitBadInput, errParts: []string{"--format markdown prints the plan; --apply prints text or json", "Usage:"}},
		{name: "no event", args: []string{"diagnose"}, code: exitBadInput, errParts: []string{"--event is required", "Usage:"}},
		{name: "unknown flag", args: []string{"diagnose", "--evnt", "x"}, code: exitBadInput, errParts: []string{"flag provided but not defined: -evnt", "Usage:"}},
		{name: "stray argument", args: []string{"diagnose", "--event", "x", "extra"}, code: exitBadInput, errParts: []string{`unexpected argument "extra"`}},
		{name: "unknown command", args: []string{"diagnoze"}, code: exitBadInput, errParts: []string{`unknown command "diagnoze"`, "Commands:"}},
		{name: "no command", args: nil, code: exitBadInput, errParts: []string{"Commands:"}},

		{name: "help", args: []string{"--help"}, code: exitOK, stdout: []string{"Commands:", "diagnose", "preflight", "remediate", "collect", "Exit codes:", "  4  inconclusive"}},
		{name: "help diagnose", args: []string{"help", "diagnose"}, code: exitOK, stdout: []string{"pullmedic diagnose --event", "-snapshot", "-format", "-region", "Examples:", "Exit codes:",
			"  3  the diagnosis ran and at least one rule failed", "  4  inconclusive: no rule failed, but some could not be evaluated"}},
		{name: "diagnose --help", args: []string{"diagnose", "--help"}, code: exitOK, stdout: []string{"pullmedic diagnose --event", "Exit codes:"}},
		{name: "help remediate", args: []string{"help", "remediate"}, code: exitOK, stdout: []string{"-apply", "-force", "-out", "Examples:"}},
		{name: "collect -h", args: []string{"collect", "-h"}, code: exitOK, stdout: []string{"-cluster", "-task", "-out", "Examples:"}},
		{name: "help unknown", args: []string{"help", "fix"}, code: exitBadInput, errParts: []string{`unknown command "fix"`}},

		{name: "remediate plans", args: []string{"remediate", "--event", scenario("public-subnet-no-public-ip", "event.json"), "--snapshot", scenario("public-subnet-no-public-ip", "snapshot.json")},
			code: exitFailing, stdout: []string{"Cause network.public-ip:", "1. enable-public-ip on arn:aws:ecs:eu-west-1:111122223333:service/shop/web", "would run unattended: enable-public-ip"}},
		{name: "remediate force", args: []string{"remediate", "--force", "--event", scenario("endpoint-sg-missing-443", "event.json"), "--snapshot", scenario("endpoint-sg-missing-443", "snapshot.json")},
			code: exitFailing, stdout: []string{"sg-allow-443-from-task", "dry-run", "--force: the pullmedic:auto-fix tag is overridden"}},
		{name: "remediate healthy", args: []string{"remediate", "--event", scenario("healthy-nat", "event.json"), "--snapshot", scenario("healthy-nat", "snapshot.json")},
			code: exitOK, stdout: []string{"No failing check:"}},
		{name: "remediate out without apply", args: []string{"remediate", "--out", "x.json", "--event", "e.json"},
			code: exitBadInput, errParts: []string{"--out needs --apply and --snapshot"}},
		{name: "collect without out", args: []string{"collect", "--event", "e.json"}, code: exitBadInput, errParts: []string{"--out is required"}},
		{name: "collect event and task", args: []string{"collect", "--event", "e.json", "--cluster", "c", "--task", "t", "--out", "s.json"},
			code: exitBadInput, errParts: []string{"not both"}},
		{name: "collect half an id", args: []string{"collect", "--cluster", "c", "--out", "s.json"}, code: exitBadInput, errParts: []string{"both --cluster and --task"}},
		{name: "collect bad event", args: []string{"collect", "--event", "testdata/running.json", "--out", "s.json"},
			code: exitBadInput, errLine: "pullmedic: testdata/running.json: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.stdin, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tc.code, r.stdout, r.stderr)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
				}
			}
			for _, s := range tc.notStdout {
				if strings.Contains(r.stdout, s) {
					t.Errorf("stdout should not say %q:\n%s", s, r.stdout)
				}
			}
			for _, s := range tc.errParts {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
				}
			}
			if tc.errLine != "" {
				if strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, tc.errLine) {
					t.Errorf("stderr should be one line starting %q, got:\n%s", tc.errLine, r.stderr)
				}
				if file := strings.TrimRight(strings.TrimPrefix(tc.errLine, "pullmedic: "), ": "); strings.Count(r.stderr, file) != 1 {
					t.Errorf("stderr should name %s once, got:\n%s", file, r.stderr)
				}
				if r.code == exitBadInput && r.stdout != "" {
					t.Errorf("stdout should be empty on bad input, got:\n%s", r.stdout)
				}
			}
		})
	}
}

func TestJSONFormatIsReportV1(t *testing.T) {
	tests := []struct {
		name         string
		event, snap  string
		code         int
		cause        string
		inconclusive bool
		unchecked    []report.Unchecked
	}{
		{name: "failing", event: scenario("no-route", "event.json"), snap: scenario("no-route", "snapshot.json"),
			code: exitFailing, cause: "network.route"},
		{name: "a read failed", event: scenario("healthy-nat", "event.json"), snap: unreadableDHCPSnapshot(t),
			code: exitInconclusive, inconclusive: true,
			unchecked: []report.Unchecked{{Rule: "dns.dhcp-options", Reason: "could not be evaluated: DHCP options set dopt-05b1c2d3e4f5a6b7c not found"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, "", "diagnose", "--format", "json", "--event", tc.event, "--snapshot", tc.snap)
			if r.code != tc.code {
				t.Fatalf("exit code = %d, want %d; stderr: %s", r.code, tc.code, r.stderr)
			}
			var rep report.Report
			dec := json.NewDecoder(strings.NewReader(r.stdout))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&rep); err != nil {
				t.Fatalf("stdout is not a report: %v\n%s", err, r.stdout)
			}
			if rep.Schema != report.SchemaV1 || aws.ToString(rep.Cause) != tc.cause || len(rep.Findings) != len(rules.Catalog) {
				t.Errorf("schema %q, cause %q, %d findings", rep.Schema, aws.ToString(rep.Cause), len(rep.Findings))
			}
			if rep.Inconclusive != tc.inconclusive || !slices.Equal(rep.Unchecked, tc.unchecked) {
				t.Errorf("inconclusive %v, unchecked %v; want %v, %v", rep.Inconclusive, rep.Unchecked, tc.inconclusive, tc.unchecked)
			}
			if !strings.HasPrefix(r.stdout, "{\n  \"schema\"") {
				t.Errorf("JSON should be indented, got %.40q", r.stdout)
			}
			if r.stderr != "" {
				t.Errorf("stderr should be empty when not a terminal, got %q", r.stderr)
			}
		})
	}
}

// A report built elsewhere (the Lambda's, a test's) exits by the same rules.
func TestExitStatus(t *testing.T) {
	failing := []rules.Finding{{Rule: "network.route", Status: rules.Fail}}
	unchecked := []report.Unchecked{{Rule: "iam.secrets", Reason: "AccessDenied"}}
	tests := []struct {
		name string
		rep  report.Report
		want int
	}{
		{"nothing fails", report.Report{}, exitOK},
		{"a rule fails", report.Report{Findings: failing}, exitFailing},
		{"a rule fails and a read failed", report.Report{Findings: failing, Unchecked: unchecked}, exitFailing},
		{"only a read failed", report.Report{Inconclusive: true, Unchecked: unchecked}, exitInconclusive},
	}
	codes := map[error]int{nil: exitOK, errFailing: exitFailing, errInconclusive: exitInconclusive}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := codes[exitStatus(&tc.rep)]; got != tc.want {
				t.Errorf("exit %d, want %d", got, tc.want)
			}
		})
	}
}

func TestNothingToDiagnoseJSONKeepsStdoutEmpty(t *testing.T) {
	r := runCLI(t, "", "diagnose", "--format", "json", "--event", "testdata/not-a-pull-failure.json")
	if r.code != exitOK || r.stdout != "" || !strings.HasPrefix(r.stderr, "nothing to diagnose") {
		t.Errorf("code %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestBinaryBadInput runs the real binary: bad input must end in one line, no panic or trace.
func TestBinaryBadInput(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "pullmedic")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	truncated := truncatedEvent(t)
	cmd := exec.Command(bin, "diagnose", "--event", truncated, "--snapshot", scenario("healthy-nat", "snapshot.json"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	exitErr, ok := err.(*exec.ExitError)
	if !ok || exitErr.ExitCode() != exitBadInput {
		t.Fatalf("want exit %d, got %v", exitBadInput, err)
	}
	msg := stderr.String()
	if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "pullmedic: "+truncated+": ") || strings.Contains(msg, "goroutine") {
		t.Errorf("stderr should be one line naming the file, got:\n%s", msg)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout should be empty, got %q", stdout.String())
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
