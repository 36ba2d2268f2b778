// Package notify tells people about image pull failures: the report on SNS
// (JSON for machines, text for email), a Block Kit message on Slack, and
// CloudWatch metrics in Embedded Metric Format.
package notify

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pullmedic/pullmedic/pkg/report"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

// Kind is what a notice says about a problem.
type Kind string

const (
	// Problem: a service started failing; the first failed task's diagnosis.
	Problem Kind = "problem"
	// StillFailing: the problem outlasted a dedupe window; the latest diagnosis.
	StillFailing Kind = "still-failing"
	// Resolved: a notified problem is over.
	Resolved Kind = "resolved"
)

// Notice is one message about the image pulls of one service or task family.
type Notice struct {
	Kind Kind
	// Report is the latest diagnosis; nil for a problem resolved by a deployment.
	Report *report.Report
	// Account and Region are where the cluster is: a hub serves many.
	Account string
	Region  string
	Cluster string // cluster name
	Group   string // "service:NAME" or "family:NAME", as ECS groups tasks
	// Time is when the failed task stopped, or when the problem was seen resolved.
	Time time.Time
	// Count and Since: StillFailing, the tasks that failed since the last
	// notice and when it went out; Resolved, the tasks of the last window.
	Count int
	Since time.Time
	// Cause is the cause that was notified (Resolved); the others take the report's.
	Cause string
	// Reason says how the problem was seen to be resolved.
	Reason string
	// Escalation is set when the cause came back after a verified automatic fix.
	Escalation *Escalation
	// Unreadable is "cannot read account X: …" when the account's role could
	// not be assumed or denied reads: the notice leads with it.
	Unreadable string
	// Approval is set when the plan waits for a person's click in Slack.
	Approval *Approval
	Links    []Link
}

// Escalation says that pullmedic fixed this cause before and verified the
// fix, yet the cause is back: it will not fix it again, a person must look.
type Escalation struct {
	FixedAt time.Time
	Changes []string // change IDs, for "pullmedic undo"
}

// escalated reports whether the notice asks a person to take over.
func (n *Notice) escalated() bool { return n.Escalation != nil && n.Kind != Resolved }

// Notifier sends notices. SNS and Slack implement it.
type Notifier interface {
	Notify(ctx context.Context, n *Notice) error
}

// Name is the service or task family name, without its "service:" or "family:" prefix.
func (n *Notice) Name() string {
	_, name, found := strings.Cut(n.Group, ":")
	if !found {
		return n.Group
	}
	return name
}

// Service is the service name, or "" for a standalone task's family.
func (n *Notice) Service() string {
	name, ok := strings.CutPrefix(n.Group, "service:")
	if !ok {
		return ""
	}
	return name
}

// CauseID is the rule ID of the cause the notice is about, or "".
func (n *Notice) CauseID() string {
	if n.Kind != Resolved && n.Report != nil && n.Report.Cause != nil {
		return *n.Report.Cause
	}
	return n.Cause
}

// Severity is the cause's severity; "info" when there is no failing cause or
// the problem is resolved.
func (n *Notice) Severity() string {
	if n.Kind != Resolved && n.Report != nil {
		if f, ok := n.Report.CauseFinding(); ok {
			return string(f.Severity)
		}
	}
	return string(rules.Info)
}

// AutoFix is the cluster's auto-fix mode as the diagnosis read it.
func (n *Notice) AutoFix() string {
	if n.Kind != Resolved && n.Report != nil && n.Report.AutoFix.Mode != "" {
		return n.Report.AutoFix.Mode
	}
	return rules.ModeOff
}

// inconclusive reports whether the notice's diagnosis could not decide: no
// rule failed, but some could not be read, which is not an all-clear.
func (n *Notice) inconclusive() bool {
	return n.Kind != Resolved && n.Report != nil && n.Report.Inconclusive
}

// causeText is the short human text of the cause.
func (n *Notice) causeText() string {
	id := n.CauseID()
	switch {
	case n.Unreadable != "" && n.Kind != Resolved:
		return n.Unreadable
	case id == "" && n.inconclusive():
		k := len(n.Report.Unchecked)
		return fmt.Sprintf("image pull failed; could not check: %d %s", k, plural(k, "rule"))
	case id == "":
		return "image pull failed, and no check fails"
	}
	text := id + " fails"
	if r, ok := rules.ByID(id); ok && r.Title != "" {
		text = r.Title
	}
	if n.Report != nil && n.Report.Confidence == rules.Likely {
		text = "likely: " + text
	}
	return text
}

// Headline is the one line that says it all: "prod/web: <cause>", with
// "still failing: " or "resolved: " in front when it applies.
func (n *Notice) Headline() string {
	prefix := ""
	switch n.Kind {
	case StillFailing:
		prefix = "still failing: "
	case Resolved:
		prefix = "resolved: "
	}
	if n.escalated() {
		prefix = "escalated: " + prefix
	}
	return prefix + n.Cluster + "/" + n.Name() + ": " + n.causeText()
}

// Status is the sentence that goes with a still-failing, resolved or escalated headline.
func (n *Notice) Status() string {
	var s []string
	switch n.Kind {
	case StillFailing:
		s = append(s, fmt.Sprintf("Still failing: %d more %s since %s.", n.Count, plural(n.Count, "task"), clock(n.Since, n.Time)))
	case Resolved:
		s = append(s, fmt.Sprintf("Resolved: %s. %d failed %s since %s.", n.Reason, n.Count, plural(n.Count, "task"), clock(n.Since, n.Time)))
	}
	if n.Unreadable != "" && n.Kind != Resolved {
		s = append(s, fmt.Sprintf("pullmedic %s. Check that the member stack (deploy/member.yaml) created its role in account %s, "+
			"and that the role allows every read of the hub's ReadPolicy.", n.Unreadable, n.Account))
	}
	if n.escalated() {
		s = append(s, fmt.Sprintf("Escalated: pullmedic fixed this cause at %s (%s) and verified the fix, but it came back. "+
			"It will not fix it again: a person must look.", clock(n.Escalation.FixedAt, n.Time), strings.Join(n.Escalation.Changes, ", ")))
	}
	return strings.Join(s, " ")
}

// SubjectMax is the longest subject SNS takes: "less than 100 characters".
const SubjectMax = 99

// Subject is the email subject: "[pullmedic] " and the headline, on one line
// and cut to SubjectMax characters.
func (n *Notice) Subject() string {
	return truncate(oneLine("[pullmedic] "+n.Headline()), SubjectMax)
}

// oneLine replaces line breaks and other control characters with spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// truncate cuts s to at most max runes, at a word boundary when one is near,
// and marks the cut with an ellipsis. It is for one-line titles, where a
// byte count would crowd out the words; clip is for long texts.
func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)[:max-1]
	if i := strings.LastIndexByte(string(r), ' '); i > len(string(r))*3/4 {
		return strings.TrimRight(string(r)[:i], " ,;:") + "…"
	}
	return string(r) + "…"
}

// Clip cuts s to at most limit bytes (so at most limit characters too), on a
// character boundary, and ends it with a marker saying how much was cut, so
// a reader knows the text goes on. A stop reason or a policy document can be
// hundreds of kilobytes; SNS and Slack take far less. limit must leave room
// for the marker, some 30 bytes.
func Clip(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	// The marker for len(s) is at least as long as the one for what is cut.
	keep := max(limit-len(clipMarker(len(s))), 0)
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return s[:keep] + clipMarker(len(s)-keep)
}

func clipMarker(cut int) string { return fmt.Sprintf("… [truncated %d bytes]", cut) }

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// clock is HH:MM UTC, with the date when t is not on the day of ref.
func clock(t, ref time.Time) string {
	if t.UTC().Format(time.DateOnly) == ref.UTC().Format(time.DateOnly) {
		return t.UTC().Format("15:04 UTC")
	}
	return stamp(t)
}

// Where is the account and region, "111122223333 eu-west-1", or what of them is known.
func (n *Notice) Where() string { return strings.TrimSpace(n.Account + " " + n.Region) }

// stamp is a full UTC time.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
