package report

import "github.com/pullmedic/pullmedic/pkg/rules"

// CauseFinding returns the finding named by Cause, if there is one.
func (r *Report) CauseFinding() (rules.Finding, bool) { return r.causeFinding() }

// Chain returns the hop-by-hop path that proves the cause, as the text report prints it.
func (r *Report) Chain() []string {
	cause, _ := r.causeFinding()
	return r.evidenceChain(cause)
}
