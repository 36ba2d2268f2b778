package fix

import (
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// WriteText tells a person what each step came to and how to undo each
// change. remark follows the mode on the first line ("" for none); undo
// returns the command that reverts a change, or "" when its record was not kept.
func (r *Result) WriteText(w io.Writer, remark string, undo func(changeID string) string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Remediation of %s: mode %s%s, outcome %s\n", r.Task.TaskArn, r.Mode, remark, r.Outcome)
	if r.Reason != "" {
		fmt.Fprintf(&b, "  Refused: %s\n", r.Reason)
	}
	if len(r.Actions) == 0 && r.Reason == "" {
		b.WriteString("  No automatic fix applies.\n")
	}
	for _, a := range r.Actions {
		fmt.Fprintf(&b, "  %-15s %s on %s", strings.ToUpper(string(a.Status)), a.Action, a.Target)
		if a.Peer != "" {
			fmt.Fprintf(&b, " (peer %s)", a.Peer)
		}
		if a.Reason != "" {
			fmt.Fprintf(&b, ": %s", a.Reason)
		}
		b.WriteString("\n")
		if a.ChangeID != "" {
			fmt.Fprintf(&b, "  %-15s change %s", "", a.ChangeID)
			if cmd := undo(a.ChangeID); cmd != "" {
				fmt.Fprintf(&b, "; undo: %s", cmd)
			}
			b.WriteString("\n")
		}
	}
	fmt.Fprintf(&b, "Before: %s\n", r.Before)
	if r.After != nil {
		fmt.Fprintf(&b, "After:  %s\n", *r.After)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// String is the one-line form of a diagnosis summary.
func (s Summary) String() string {
	if len(s.Failing) == 0 {
		return "no rule fails"
	}
	return fmt.Sprintf("cause %s; failing %s", aws.ToString(s.Cause), strings.Join(s.Failing, ", "))
}
