package notify

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/slack-go/slack"

	"github.com/pullmedic/pullmedic/pkg/fix"
)

// Approve mode (pullmedic:auto-fix=approve) in Slack: the problem's message
// ends with "Apply fix" and "Dismiss" buttons; a click reaches the approve
// function, and the message is then replaced, through the click's
// response_url, with what became of it: applying, dismissed, expired, and in
// the end the remediation's outcome (posted by the remediate function).
//
// Slack: buttons https://docs.slack.dev/reference/block-kit/block-elements/button-element,
// the click https://docs.slack.dev/reference/interaction-payloads/block_actions-payload,
// response_url https://api.slack.com/interactivity/handling (replace_original,
// response_type ephemeral).

// Approval is a fix plan waiting for a person: the notice's message then
// ends with its buttons, which carry only the approval's ID. The approve
// function looks the plan up by it.
type Approval struct {
	ID         string
	ValidUntil time.Time
}

// The Block Kit IDs of the approval buttons, which the approve function
// reads back from the click.
const (
	ApprovalBlockID = "pullmedic-approval"
	ActionApply     = "pullmedic-apply"
	ActionDismiss   = "pullmedic-dismiss"
)

// ApprovalBlocks are an approval's buttons and a line on until when they
// work. A button's value is the approval ID and nothing else: Slack sends it
// back as is, and it must never be a plan to obey. Apply asks to confirm,
// since it changes the account.
func ApprovalBlocks(a Approval) []slack.Block {
	plain := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
	}
	apply := slack.NewButtonBlockElement(ActionApply, a.ID, plain("Apply fix"))
	apply.Style = slack.StylePrimary
	apply.Confirm = slack.NewConfirmationBlockObject(plain("Apply the fix?"),
		mrkdwnText("pullmedic diagnoses again on fresh state and applies only the steps that still hold. Every change is recorded and can be undone with `pullmedic undo`."),
		plain("Apply"), plain("Cancel"))
	dismiss := slack.NewButtonBlockElement(ActionDismiss, a.ID, plain("Dismiss"))
	return []slack.Block{
		slack.NewActionBlock(ApprovalBlockID, apply, dismiss),
		slack.NewContextBlock("", mrkdwnText(fmt.Sprintf("Nothing changes until an approver clicks *Apply fix* (until %s). Approval %s",
			stamp(a.ValidUntil), code(a.ID)))),
	}
}

// ApprovalSubject is what an approval is about, for the messages that
// replace the one clicked.
type ApprovalSubject struct {
	ID      string
	Cluster string
	Group   string // "service:NAME" or "family:NAME"
	Cause   string
}

// Mention is how Slack shows a user: approvers are recorded as
// "slack:<user id>" (fix.Request's approvedBy).
func Mention(approver string) string {
	return "<@" + esc(strings.TrimPrefix(approver, "slack:")) + ">"
}

// ApprovalApplying replaces the clicked message while the fix runs.
func ApprovalApplying(s ApprovalSubject, approver string) *slack.WebhookMessage {
	return replaced(s, ":hourglass_flowing_sand:", "Applying the fix",
		fmt.Sprintf("Approved by %s. pullmedic diagnoses again on fresh state and applies only what still holds; the outcome replaces this message.", Mention(approver)))
}

// ApprovalDismissed replaces the clicked message after a dismissal.
func ApprovalDismissed(s ApprovalSubject, approver string, at time.Time) *slack.WebhookMessage {
	return replaced(s, ":no_bell:", "Dismissed",
		fmt.Sprintf("Dismissed by %s at %s. Nothing was changed, and nothing is posted about this problem until its dedupe window ends.", Mention(approver), stamp(at)))
}

// ApprovalExpired replaces a message clicked after its approval expired.
func ApprovalExpired(s ApprovalSubject, validUntil time.Time) *slack.WebhookMessage {
	return replaced(s, ":hourglass:", "Expired",
		fmt.Sprintf("This approval expired at %s: approvals last an hour. Nothing was changed. If the task still fails, pullmedic posts a fresh plan after the dedupe window.", stamp(validUntil)))
}

// ApprovalNotStarted replaces the clicked message when the fix could not be
// handed to the remediate function; the buttons come back to try again.
func ApprovalNotStarted(s ApprovalSubject, validUntil time.Time, err error) *slack.WebhookMessage {
	msg := replaced(s, ":warning:", "Could not start the fix",
		"Nothing was changed: "+escClip(err.Error(), lineMax)+". Try again:")
	msg.Blocks.BlockSet = append(msg.Blocks.BlockSet, ApprovalBlocks(Approval{ID: s.ID, ValidUntil: validUntil})...)
	return msg
}

// Ephemeral is a reply only the clicker sees, leaving the message as it is:
// a click that decides nothing (not an approver, already decided).
func Ephemeral(text string) *slack.WebhookMessage {
	return &slack.WebhookMessage{ResponseType: slack.ResponseTypeEphemeral, Text: Clip(text, textMax)}
}

// RemediationReply replaces the clicked message with the outcome of the
// approved remediation: changed (with each change and its undo command),
// nothing left to do, or not applied and why. undo returns the command that
// reverts a change, "" for none.
func RemediationReply(res *fix.Result, approver string, undo func(changeID string) string) *slack.WebhookMessage {
	icon, title, detail := verdict(res)
	msg := replaced(subjectOf(res), icon, title, detail+" Approved by "+Mention(approver)+".")
	if lines := actionLines(res, undo); len(lines) > 0 {
		msg.Blocks.BlockSet = append(msg.Blocks.BlockSet, section(titled("Steps", lines, "\n")))
	}
	return msg
}

// RemediationFailedReply replaces the clicked message when the approved
// remediation failed; Lambda retries it, and the retry's outcome replaces
// this one.
func RemediationFailedReply(s ApprovalSubject, approver string, err error) *slack.WebhookMessage {
	return replaced(s, ":warning:", "The fix failed",
		fmt.Sprintf("Approved by %s. %s. Lambda retries it once; if that fails too, the request goes to the stack's failure queue.",
			Mention(approver), escClip(err.Error(), lineMax)))
}

// verdict says what a remediation came to, for a person who clicked Apply.
func verdict(res *fix.Result) (icon, title, detail string) {
	switch {
	case res.Outcome == fix.OutcomeChanged:
		return ":white_check_mark:", "Fixed", fmt.Sprintf("%d change(s) applied; %s.", len(res.Changes), after(res))
	case res.Outcome == fix.OutcomeRefused:
		return ":no_entry:", "Refused", "Nothing was changed: " + escClip(res.Reason, lineMax) + "."
	case nothingLeft(res):
		return ":ballot_box_with_check:", "Nothing left to do",
			"A fresh diagnosis finds nothing for pullmedic to change (" + esc(res.Before.String()) + "); someone may have fixed it already. Nothing was changed."
	}
	var why []string
	for _, a := range res.Actions {
		if a.Reason != "" && a.Reason != fix.ReasonNotPlanned && !slices.Contains(why, a.Reason) {
			why = append(why, a.Reason)
		}
	}
	if len(why) == 0 {
		why = append(why, "outcome "+res.Outcome)
	}
	return ":no_entry:", "Not applied", "Nothing was changed: " + escClip(strings.Join(why, "; "), lineMax) + "."
}

// nothingLeft reports an unchanged outcome in which no step was held back:
// every step already held, or the fresh plan no longer had it.
func nothingLeft(res *fix.Result) bool {
	if res.Outcome != fix.OutcomeUnchanged {
		return false
	}
	for _, a := range res.Actions {
		if a.Status != fix.StatusAlreadyPresent && (a.Status != fix.StatusRefused || a.Reason != fix.ReasonNotPlanned) {
			return false
		}
	}
	return true
}

func after(res *fix.Result) string {
	if res.After == nil {
		return "not verified"
	}
	return "after the fix: " + esc(res.After.String())
}

func actionLines(res *fix.Result, undo func(string) string) []string {
	var lines []string
	for _, a := range res.Actions {
		line := fmt.Sprintf("• %s on %s: *%s*", code(a.Action), code(a.Target), a.Status)
		if a.Peer != "" {
			line = fmt.Sprintf("• %s on %s from %s: *%s*", code(a.Action), code(a.Target), code(a.Peer), a.Status)
		}
		if a.Reason != "" {
			line += " (" + escClip(a.Reason, lineMax) + ")"
		}
		if a.ChangeID != "" {
			line += "\n   change " + code(a.ChangeID)
			if cmd := undo(a.ChangeID); cmd != "" {
				line += ", undo: " + code(cmd)
			}
		}
		lines = append(lines, line)
	}
	return lines
}

func subjectOf(res *fix.Result) ApprovalSubject {
	s := ApprovalSubject{Cluster: res.Task.ClusterArn[strings.LastIndex(res.Task.ClusterArn, "/")+1:], Cause: aws.ToString(res.Before.Cause)}
	if svc := aws.ToString(res.Task.Service); svc != "" {
		s.Group = "service:" + svc
	}
	return s
}

// replaced is a message that replaces the clicked one: what it is about, and
// what became of it.
func replaced(s ApprovalSubject, icon, title, detail string) *slack.WebhookMessage {
	var about []string
	if s.Cluster != "" {
		about = append(about, "*Cluster* "+esc(s.Cluster))
	}
	if name, ok := strings.CutPrefix(s.Group, "service:"); ok {
		about = append(about, "*Service* "+esc(name))
	} else if name, ok := strings.CutPrefix(s.Group, "family:"); ok {
		about = append(about, "*Task family* "+esc(name))
	}
	if s.Cause != "" {
		about = append(about, "*Cause* "+code(s.Cause))
	}
	if s.ID != "" {
		about = append(about, "*Approval* "+code(s.ID))
	}
	head := icon + " *" + title + "*\n"
	blocks := []slack.Block{section(head + Clip(detail, textMax-len(head)))}
	if len(about) > 0 {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwnText(fitLines("", about, " · ", textMax))))
	}
	return &slack.WebhookMessage{
		Text:            strings.TrimSpace("[pullmedic] " + title + ": " + s.Cluster + " " + s.Group),
		ReplaceOriginal: true,
		Blocks:          &slack.Blocks{BlockSet: blocks},
	}
}
