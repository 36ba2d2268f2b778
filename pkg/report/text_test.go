package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/pullmedic/pullmedic/pkg/rules"
)

var routeChain = []string{"task 10.0.1.5 (eni-1)", "subnet subnet-1 (private)", "route table rtb-1 (explicit)", "0.0.0.0/0 → nat-1 (failed)"}

// sample is a failing report: the route is the cause, and the public-ip rule does not apply.
func sample() *Report {
	return &Report{
		Schema: SchemaV1,
		Task: Task{
			TaskArn: "arn:aws:ecs:eu-west-1:111122223333:task/shop/abc", Service: aws.String("web"),
			Images: []string{"111122223333.dkr.ecr.eu-west-1.amazonaws.com/web:1"}, StoppedReason: "CannotPullContainerError: i/o timeout\n",
		},
		Cause: aws.String("network.route"),
		Findings: []rules.Finding{
			{Rule: "network.route", Status: rules.Fail, Severity: rules.Critical, Message: "NAT gateway nat-1 is failed.",
				Evidence: map[string]any{"chain": routeChain}, Advice: "Replace the NAT gateway:\naws ec2 create-nat-gateway ..."},
			{Rule: "network.public-ip", Status: rules.Skip, Severity: rules.High, Message: "not a public subnet"},
			{Rule: "dns.dhcp-options", Status: rules.Warn, Severity: rules.Medium, Message: "custom resolvers"},
		},
		Plan:    []rules.Step{},
		AutoFix: rules.OptIn{Mode: rules.ModeOff, Actions: []string{}},
	}
}

func render(t *testing.T, r *Report, color bool) string {
	t.Helper()
	var b bytes.Buffer
	if err := r.WriteText(&b, color); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestWriteText(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(r *Report)
		want    []string // substrings, in order
		notWant []string
	}{
		{name: "cause, path, advice, table",
			want: []string{
				"Task shop/abc (service web)\n",
				"Stopped CannotPullContainerError: i/o timeout\n",
				"Cause network.route: NAT gateway nat-1 is failed.\n",
				"Path\n    task 10.0.1.5 (eni-1)\n  → subnet subnet-1 (private)\n  → route table rtb-1 (explicit)\n  → 0.0.0.0/0 → nat-1 (failed)\n",
				"What to do\n  Replace the NAT gateway:\n  aws ec2 create-nat-gateway ...\n",
				"No automatic fix applies",
				"Checks (3)\n  STATUS  RULE               SEVERITY  MESSAGE\n  FAIL    network.route      critical  NAT gateway nat-1 is failed.\n",
			},
			notWant: []string{"\x1b["}},
		{name: "standalone task without cause",
			edit: func(r *Report) {
				r.Task.Service = nil
				r.Cause = nil
				r.Findings[0].Status = rules.Pass
			},
			want:    []string{"(standalone task)", "No failing check: 1 checks passed, 1 did not apply, 1 warned (read them below).", "Path\n    task 10.0.1.5"},
			notWant: []string{"What to do", "Cause"}},
		{name: "inconclusive: a read failed and nothing fails",
			edit: func(r *Report) {
				r.Cause = nil
				r.Findings[0].Status = rules.Pass
				r.Findings[2].Status, r.Findings[2].Message = rules.Error, "could not be evaluated: ec2:dhcp-options: ThrottlingException"
				r.Unchecked = []Unchecked{{Rule: "dns.dhcp-options", Reason: r.Findings[2].Message}}
				r.Inconclusive = true
			},
			want: []string{"Inconclusive: 1 check could not be evaluated because a read failed.",
				"Could not check\n  dns.dhcp-options: could not be evaluated: ec2:dhcp-options: ThrottlingException\n" +
					"    unknown: The VPC's DHCP options set has domain-name-servers AmazonProvidedDNS",
				"  Make the failed reads work", "ERROR   dns.dhcp-options"},
			notWant: []string{"No failing check", "What to do"}},
		{name: "failing, and a read failed",
			edit: func(r *Report) {
				r.Unchecked = []Unchecked{{Rule: "iam.secrets", Reason: "could not be evaluated: secrets: AccessDenied"}}
			},
			want: []string{"Cause network.route: NAT gateway nat-1 is failed.\n\nCould not check\n  iam.secrets: could not be evaluated: secrets: AccessDenied\n",
				"What to do"},
			notWant: []string{"Inconclusive"}},
		{name: "a cut report says so",
			edit: func(r *Report) { r.Truncated = "to fit SNS: evidence dropped" },
			want: []string{"Stopped CannotPullContainerError: i/o timeout\nCut to fit SNS: evidence dropped\n"}},
		{name: "path falls back to a rule that applied",
			edit: func(r *Report) {
				r.Cause = aws.String("dns.dhcp-options")
				r.Findings[2].Status = rules.Fail
				r.Findings[0].Status = rules.Pass
			},
			want: []string{"Cause dns.dhcp-options: custom resolvers", "Path\n    task 10.0.1.5"}},
		{name: "no path when only skipped rules traced one",
			edit: func(r *Report) {
				r.Cause = nil
				r.Findings[0].Status = rules.Skip
			},
			notWant: []string{"Path"}},
		{name: "plan with apply opt-in",
			edit: func(r *Report) {
				r.Plan = []rules.Step{{Action: rules.ActionPublicIP, Target: "arn:svc"}, {Action: rules.ActionAllowEgress, Target: "sg-1"}}
				r.AutoFix = rules.OptIn{OptedIn: true, Mode: rules.ModeApply, Actions: []string{rules.ActionPublicIP}}
			},
			want: []string{"Automatic fix plan:\n    1. enable-public-ip on arn:svc\n    2. sg-allow-443-egress on sg-1\n  Auto-fix: apply; would run unattended: enable-public-ip\n"}},
		{name: "plan with dry-run",
			edit: func(r *Report) {
				r.Plan = []rules.Step{{Action: rules.ActionPublicIP, Target: "arn:svc"}}
				r.AutoFix = rules.OptIn{OptedIn: true, Mode: rules.ModeDryRun, Actions: []string{rules.ActionPublicIP}}
			},
			want: []string{"Auto-fix: dry-run; the plan is reported, nothing is changed"}},
		{name: "plan with approve",
			edit: func(r *Report) {
				r.Plan = []rules.Step{{Action: rules.ActionPublicIP, Target: "arn:svc"}}
				r.AutoFix = rules.OptIn{OptedIn: true, Mode: rules.ModeApprove, Actions: []string{rules.ActionPublicIP}}
			},
			want:    []string{"Auto-fix: approve; posted to Slack, runs only when an approver clicks Apply fix: enable-public-ip"},
			notWant: []string{"unattended"}},
		{name: "plan the opt-in does not cover",
			edit: func(r *Report) {
				r.Plan = []rules.Step{{Action: rules.ActionAllowEgress, Target: "sg-1"}}
				r.AutoFix = rules.OptIn{OptedIn: true, Mode: rules.ModeApply, Actions: []string{}}
			},
			want: []string{"Auto-fix: apply, but the opt-in allows none of the planned actions"}},
		{name: "plan without opt-in",
			edit: func(r *Report) { r.Plan = []rules.Step{{Action: rules.ActionPublicIP, Target: "arn:svc"}} },
			want: []string{"Auto-fix: off (the cluster has no valid pullmedic:auto-fix tag); nothing runs unattended"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := sample()
			if tc.edit != nil {
				tc.edit(r)
			}
			got := render(t, r, false)
			rest := got
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("missing or out of order: %q\nin:\n%s", w, got)
				}
				rest = rest[i+len(w):]
			}
			for _, w := range tc.notWant {
				if strings.Contains(got, w) {
					t.Errorf("should not contain %q:\n%s", w, got)
				}
			}
		})
	}
}

// After JSON the chain is []any; the text must not change.
func TestWriteTextAfterJSON(t *testing.T) {
	r := sample()
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if got, want := render(t, &back, false), render(t, r, false); got != want {
		t.Errorf("text after JSON:\n%s\nwant:\n%s", got, want)
	}
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// Colors must not break the table's alignment: stripped, the colored text is the plain text.
func TestWriteTextColor(t *testing.T) {
	r := sample()
	colored := render(t, r, true)
	if !strings.Contains(colored, "\x1b[31mFAIL\x1b[0m") || !strings.Contains(colored, "\x1b[33mWARN\x1b[0m") {
		t.Errorf("statuses are not colored:\n%q", colored)
	}
	if plain := render(t, r, false); ansi.ReplaceAllString(colored, "") != plain {
		t.Errorf("colored text, stripped, differs from plain:\n%s\nplain:\n%s", ansi.ReplaceAllString(colored, ""), plain)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteTextReportsWriteErrors(t *testing.T) {
	r := sample()
	if err := r.WriteText(failingWriter{}, false); err == nil || err.Error() != "disk full" {
		t.Errorf("WriteText error = %v, want disk full", err)
	}
	if err := r.WritePlan(failingWriter{}, false); err == nil {
		t.Error("WritePlan should report the write error")
	}
}

func TestWritePlan(t *testing.T) {
	r := sample()
	r.Plan = []rules.Step{{Action: rules.ActionPublicIP, Target: "arn:svc"}}
	var b bytes.Buffer
	if err := r.WritePlan(&b, false); err != nil {
		t.Fatal(err)
	}
	want := "Cause network.route: NAT gateway nat-1 is failed.\n  Automatic fix plan:\n    1. enable-public-ip on arn:svc\n" +
		"  Auto-fix: off (the cluster has no valid pullmedic:auto-fix tag); nothing runs unattended\n"
	if b.String() != want {
		t.Errorf("WritePlan:\n%s\nwant:\n%s", b.String(), want)
	}
}
