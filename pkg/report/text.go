package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/pullmedic/pullmedic/pkg/rules"
)

// ANSI styles. Every style has the same byte length (bold is spelled "01"), so
// the column widths tabwriter counts in bytes stay aligned when colored.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[01m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiPurple = "\x1b[35m"
	ansiGray   = "\x1b[90m"
)

var statusStyle = map[rules.Status]string{
	rules.Fail:  ansiRed,
	rules.Pass:  ansiGreen,
	rules.Warn:  ansiYellow,
	rules.Error: ansiPurple,
	rules.Skip:  ansiGray,
}

// textWriter carries the first write error, so the rendering reads top to bottom.
type textWriter struct {
	w     io.Writer
	color bool
	err   error
}

func (t *textWriter) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, args...)
	}
}

func (t *textWriter) style(style, s string) string {
	if !t.color || style == "" {
		return s
	}
	return style + s + ansiReset
}

// WriteText renders the report as a note for a person: the cause, the path
// that proves it, what to do, then every check. color adds ANSI styles.
func (r *Report) WriteText(w io.Writer, color bool) error {
	t := &textWriter{w: w, color: color}
	r.writeHeader(t)
	cause, hasCause := r.writeCause(t)
	if chain := r.evidenceChain(cause); len(chain) > 0 {
		t.printf("\n%s\n", t.style(ansiBold, "Path"))
		for i, hop := range chain {
			arrow := "  "
			if i > 0 {
				arrow = "→ "
			}
			t.printf("  %s%s\n", arrow, hop)
		}
	}
	if hasCause {
		t.printf("\n%s\n", t.style(ansiBold, "What to do"))
		if cause.Advice != "" {
			t.printf("%s\n", indent(cause.Advice, "  "))
		}
		r.writePlan(t)
	}
	t.printf("\n%s\n", t.style(ansiBold, fmt.Sprintf("Checks (%d)", len(r.Findings))))
	r.writeTable(t)
	return t.err
}

// WritePlan renders only the cause, its fix plan and what the opt-in allows of it.
func (r *Report) WritePlan(w io.Writer, color bool) error {
	t := &textWriter{w: w, color: color}
	if _, hasCause := r.writeCause(t); hasCause {
		r.writePlan(t)
	}
	return t.err
}

// writeCause states the cause in one line, or that the checks could not
// decide, or that nothing failed; then the rules that could not be checked.
func (r *Report) writeCause(t *textWriter) (rules.Finding, bool) {
	cause, hasCause := r.causeFinding()
	switch {
	case hasCause:
		t.printf("%s %s: %s\n", t.style(ansiBold, r.CauseLabel()), cause.Rule, cause.Message)
	case r.Inconclusive:
		t.printf("%s %s\n", t.style(ansiBold, "Inconclusive:"), r.InconclusiveSummary())
	default:
		t.printf("%s %s\n", t.style(ansiBold, "No failing check:"), r.noCauseSummary())
	}
	if len(r.Unchecked) > 0 {
		t.printf("\n%s\n", t.style(ansiBold, "Could not check"))
		for _, u := range r.Unchecked {
			t.printf("  %s: %s\n", u.Rule, u.Reason)
			if open := u.LeavesOpen(); open != "" {
				t.printf("    unknown: %s\n", open)
			}
		}
		t.printf("%s\n", indent(UncheckedAdvice, "  "))
	}
	return cause, hasCause
}

// UncheckedAdvice is what to do about rules that could not be checked.
const UncheckedAdvice = "Make the failed reads work (the reason names the API and the error: a missing permission, " +
	"throttling, a deleted resource) and diagnose again, or run pullmedic diagnose with credentials that can read them."

// InconclusiveSummary says, for an inconclusive report, why no cause is named
// and why that is not an all-clear.
func (r *Report) InconclusiveSummary() string {
	n := len(r.Unchecked)
	what := "1 check"
	if n != 1 {
		what = fmt.Sprintf("%d checks", n)
	}
	return what + " could not be evaluated because a read failed. No other check fails, " +
		"but that does not show the task is able to pull: what the unchecked rules verify is still open."
}

func (r *Report) writeHeader(t *textWriter) {
	task := r.Task
	what := "standalone task"
	if task.Service != nil {
		what = "service " + *task.Service
	}
	if r.Mode == ModePreflight { // no task yet: what is judged is the service's next one
		td := task.TaskDefinitionArn[strings.LastIndex(task.TaskDefinitionArn, "/")+1:]
		t.printf("Preflight of %s with task definition %s: a task that has not run yet\n", what, td)
		t.printf("Subnet %s (the service's first: a new task may land in any of its subnets)\n", task.SubnetID)
	} else {
		t.printf("Task %s (%s)\n", shortTask(task.TaskArn), what)
	}
	if len(task.Images) > 0 {
		t.printf("Image %s\n", strings.Join(task.Images, ", "))
	}
	if task.StoppedReason != "" {
		t.printf("Stopped %s\n", strings.TrimSpace(task.StoppedReason))
	}
	if r.Truncated != "" {
		t.printf("Cut %s\n", r.Truncated)
	}
	t.printf("\n")
}

func (r *Report) writePlan(t *textWriter) {
	if len(r.Plan) == 0 {
		t.printf("  No automatic fix applies; the steps above are manual.\n")
		return
	}
	t.printf("  Automatic fix plan:\n")
	for i, s := range r.Plan {
		t.printf("    %d. %s on %s\n", i+1, s.Action, s.Target)
	}
	t.printf("  Auto-fix: %s\n", autoFixVerdict(r.AutoFix))
}

func autoFixVerdict(o rules.OptIn) string {
	switch {
	case !o.OptedIn:
		return fmt.Sprintf("off (the cluster has no valid %s tag); nothing runs unattended", rules.TagAutoFix)
	case o.Mode == rules.ModeDryRun:
		return "dry-run; the plan is reported, nothing is changed"
	case len(o.Actions) == 0:
		return fmt.Sprintf("%s, but the opt-in allows none of the planned actions", o.Mode)
	case o.Mode == rules.ModeApprove:
		return fmt.Sprintf("approve; posted to Slack, runs only when an approver clicks Apply fix: %s", strings.Join(o.Actions, ", "))
	default:
		return fmt.Sprintf("%s; would run unattended: %s", o.Mode, strings.Join(o.Actions, ", "))
	}
}

func (r *Report) writeTable(t *textWriter) {
	if t.err != nil {
		return
	}
	tw := tabwriter.NewWriter(t.w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  %s\tRULE\tSEVERITY\tMESSAGE\n", t.style(ansiBold, "STATUS"))
	for _, f := range r.Findings {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", t.style(statusStyle[f.Status], strings.ToUpper(string(f.Status))), f.Rule, f.Severity, f.Message)
	}
	t.err = tw.Flush()
}

// causeFinding returns the finding named by Cause.
func (r *Report) causeFinding() (rules.Finding, bool) {
	if r.Cause == nil {
		return rules.Finding{}, false
	}
	return r.Finding(*r.Cause)
}

// noCauseSummary says what the checks found when none failed.
func (r *Report) noCauseSummary() string {
	count := map[rules.Status]int{}
	for _, f := range r.Findings {
		count[f.Status]++
	}
	s := fmt.Sprintf("%d checks passed, %d did not apply", count[rules.Pass], count[rules.Skip])
	if n := count[rules.Warn]; n > 0 {
		s += fmt.Sprintf(", %d warned (read them below)", n)
	}
	// Rules in error make the report inconclusive, which is said instead.
	return s + "."
}

// evidenceChain is the cause's hop-by-hop path, else the first path a rule
// that applied has traced: the route's, or the endpoints' when routing was skipped.
func (r *Report) evidenceChain(cause rules.Finding) []string {
	if chain := chainOf(cause); len(chain) > 0 {
		return chain
	}
	for _, f := range r.Findings {
		if chain := chainOf(f); f.Status != rules.Skip && len(chain) > 0 {
			return chain
		}
	}
	return nil
}

// chainOf reads Evidence["chain"], which is []string when built and []any after JSON.
func chainOf(f rules.Finding) []string {
	switch c := f.Evidence["chain"].(type) {
	case []string:
		return c
	case []any:
		out := make([]string, 0, len(c))
		for _, v := range c {
			out = append(out, fmt.Sprint(v))
		}
		return out
	}
	return nil
}

// shortTask is CLUSTER/ID from a task ARN.
func shortTask(arn string) string {
	if i := strings.Index(arn, ":task/"); i >= 0 {
		return arn[i+len(":task/"):]
	}
	return arn
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}
