package notify

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/slack-go/slack"

	"github.com/pullmedic/pullmedic/pkg/fix"
	"github.com/pullmedic/pullmedic/pkg/report"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(j)
}

// The buttons carry the approval ID and nothing else, under the IDs the
// approve function reads, and Apply asks to confirm.
func TestApprovalBlocks(t *testing.T) {
	const id = "apr-0123456789abcdef01234567"
	blocks := ApprovalBlocks(Approval{ID: id, ValidUntil: time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)})
	actions, ok := blocks[0].(*slack.ActionBlock)
	if !ok || actions.BlockID != ApprovalBlockID || len(actions.Elements.ElementSet) != 2 {
		t.Fatalf("first block %s, want the actions block %s with two buttons", jsonOf(t, blocks[0]), ApprovalBlockID)
	}
	for i, want := range []string{ActionApply, ActionDismiss} {
		b := actions.Elements.ElementSet[i].(*slack.ButtonBlockElement)
		if b.ActionID != want || b.Value != id {
			t.Errorf("button %d: action %q value %q, want %q carrying only %q", i, b.ActionID, b.Value, want, id)
		}
		if (b.Confirm != nil) != (want == ActionApply) {
			t.Errorf("button %s: confirm %v; only Apply asks", want, b.Confirm)
		}
	}
	if ctx := jsonOf(t, blocks[1]); !strings.Contains(ctx, "2026-11-25 15:00 UTC") {
		t.Errorf("context %s does not say until when", ctx)
	}
}

// A problem notice in approve mode says nothing changes until a click, and
// ends with the buttons; without an approval it has none.
func TestSlackMessageWithApproval(t *testing.T) {
	rep := &report.Report{
		Cause: aws.String("network.endpoint-sg"), Task: report.Task{TaskArn: "arn:aws:ecs:us-east-1:1:task/prod/abc"},
		Findings: []rules.Finding{{Rule: "network.endpoint-sg", Status: rules.Fail, Severity: rules.High, Message: "closed",
			Fix: &rules.Fix{Action: rules.ActionAllowFromTask, Target: "sg-ep", AutoFixable: true}}},
		Plan:    []rules.Step{{Action: rules.ActionAllowFromTask, Target: "sg-ep"}},
		AutoFix: rules.ParseOptIn("approve", true),
	}
	n := &Notice{Kind: Problem, Report: rep, Cluster: "prod", Group: "service:web", Time: time.Unix(0, 0)}
	if s := jsonOf(t, SlackMessage(n)); strings.Contains(s, ApprovalBlockID) || !strings.Contains(s, "auto-fix=approve") {
		t.Errorf("without an approval: %s; want the approve wording and no buttons", s)
	}
	n.Approval = &Approval{ID: "apr-0123456789abcdef01234567"}
	if s := jsonOf(t, SlackMessage(n)); !strings.Contains(s, ApprovalBlockID) || !strings.Contains(s, "until an approver clicks") {
		t.Errorf("with an approval: %s; want the buttons", s)
	}
}

func TestRemediationReply(t *testing.T) {
	task := report.Task{TaskArn: "arn:aws:ecs:us-east-1:1:task/prod/abc", ClusterArn: "arn:aws:ecs:us-east-1:1:cluster/prod", Service: aws.String("web")}
	cause := aws.String("network.endpoint-sg")
	cases := []struct {
		name string
		res  fix.Result
		want []string // in the reply
	}{
		{"changed", fix.Result{Outcome: fix.OutcomeChanged, Before: fix.Summary{Cause: cause},
			After:   &fix.Summary{Failing: []string{}},
			Actions: []fix.ActionResult{{Action: rules.ActionAllowFromTask, Target: "sg-ep", Peer: "sg-task", Status: fix.StatusVerified, ChangeID: "chg-1"}},
			Changes: []fix.Change{{ChangeID: "chg-1"}}},
			[]string{":white_check_mark: *Fixed*", "1 change(s) applied; after the fix: no rule fails", "*verified*", "undo: `pullmedic undo --change chg-1`", "\\u003c@U0A\\u003e"}},
		{"fixed by hand meanwhile", fix.Result{Outcome: fix.OutcomeUnchanged, Before: fix.Summary{Failing: []string{}},
			Actions: []fix.ActionResult{{Action: rules.ActionAllowFromTask, Target: "sg-ep", Status: fix.StatusRefused, Reason: fix.ReasonNotPlanned}}},
			[]string{"*Nothing left to do*", "no rule fails", "Nothing was changed"}},
		{"already there", fix.Result{Outcome: fix.OutcomeUnchanged, Before: fix.Summary{Cause: cause, Failing: []string{"network.endpoint-sg"}},
			Actions: []fix.ActionResult{{Action: rules.ActionAllowFromTask, Target: "sg-ep", Status: fix.StatusAlreadyPresent}}},
			[]string{"*Nothing left to do*"}},
		{"refused by live state", fix.Result{Outcome: fix.OutcomeRefused, Reason: "the task's subnet subnet-x is not one of the service's"},
			[]string{":no_entry: *Refused*", "subnet-x is not one of the service's"}},
		{"the tag was switched off", fix.Result{Outcome: fix.OutcomeUnchanged, Mode: rules.ModeOff,
			Actions: []fix.ActionResult{{Action: rules.ActionAllowFromTask, Target: "sg-ep", Status: fix.StatusSkipped, Reason: "the cluster's pullmedic:auto-fix tag does not allow sg-allow-443-from-task"}}},
			[]string{"*Not applied*", "tag does not allow"}},
		{"escalated", fix.Result{Outcome: fix.OutcomeEscalate,
			Actions: []fix.ActionResult{{Action: rules.ActionAllowFromTask, Target: "sg-ep", Status: fix.StatusSkipped, Reason: "this cause came back after a verified fix"}}},
			[]string{"*Not applied*", "came back after a verified fix"}},
		{"a guard rail said no", fix.Result{Outcome: fix.OutcomeUnchanged,
			Actions: []fix.ActionResult{{Action: rules.ActionAllowEgress, Target: "sg-task", Status: fix.StatusRefused, Reason: "egress to 0.0.0.0/0 only on an internet path"}}},
			[]string{"*Not applied*", "0.0.0.0/0 only on an internet path"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.res.Task = task
			msg := RemediationReply(&tc.res, "slack:U0A", func(id string) string { return "pullmedic undo --change " + id })
			if !msg.ReplaceOriginal {
				t.Error("the outcome does not replace the clicked message")
			}
			s := jsonOf(t, msg)
			for _, w := range tc.want {
				if !strings.Contains(s, w) {
					t.Errorf("reply %s\nlacks %q", s, w)
				}
			}
			if !strings.Contains(s, "*Service* web") || !strings.Contains(s, "*Cluster* prod") {
				t.Errorf("reply %s does not say which service", s)
			}
		})
	}
}

// A remediation that failed says so, and that Lambda retries it.
func TestRemediationFailedReply(t *testing.T) {
	s := jsonOf(t, RemediationFailedReply(ApprovalSubject{Cluster: "prod", Group: "service:web"}, "slack:U0A", errors.New("write the intents: throttled <&>")))
	for _, w := range []string{"The fix failed", "throttled \\u0026lt;\\u0026amp;\\u0026gt;", "retries it once", "replace_original\":true"} {
		if !strings.Contains(s, w) {
			t.Errorf("reply %s lacks %q", s, w)
		}
	}
}
