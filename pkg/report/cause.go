package report

import "github.com/pullmedic/pullmedic/pkg/rules"

// CauseFinding returns the finding named by Cause, if there is one.
func (r *Report) CauseFinding() (rules.Finding, bool) { return r.causeFinding() }

// Chain returns the hop-by-hop path that proves the cause, as the text report prints it.
func (r *Report) Chain() []string {
	cause, _ := r.causeFinding()
	return r.evidenceChain(cause)
}

// CauseLabel is how every channel introduces the cause: "Cause" when a rule
// fails, "Likely cause" when it is a warning that fits the stop reason.
func (r *Report) CauseLabel() string {
	if r.Confidence == rules.Likely {
		return "Likely cause"
	}
	return "Cause"
}
