package rules

import (
	"testing"

	"github.com/pullmedic/pullmedic/pkg/account"
)

// A rule's Action is the fix its failures carry: remediation relies on it to
// hold back while such a rule is in error. Each world below makes one of
// the fixable rules fail.
func TestRuleActionIsTheFixItsFailuresCarry(t *testing.T) {
	worlds := map[string]func() *account.Facts{
		"endpoint group closed": with(endpointVPC, endpointIngress()),
		"task egress closed":    with(natVPC, taskEgress()),
		"no public IP":          with(publicVPC, privateIPOff),
	}
	seen := map[string]bool{}
	for name, world := range worlds {
		for _, fd := range Evaluate(world()) {
			r, _ := ByID(fd.Rule)
			if fd.Fix != nil {
				seen[fd.Fix.Action] = true
				if fd.Fix.Action != r.Action {
					t.Errorf("%s: %s carries fix %s, but its Action is %q", name, fd.Rule, fd.Fix.Action, r.Action)
				}
			}
		}
	}
	for _, a := range []string{ActionAllowFromTask, ActionAllowEgress, ActionPublicIP} {
		if !seen[a] {
			t.Errorf("no world made a rule carry %s: the test checks nothing for it", a)
		}
	}
}

// Every rule of the catalog says what it is: a headline names its failure in
// Slack and email subjects, and the catalog table is generated from these.
func TestEveryRuleIsDescribed(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Catalog {
		if seen[r.ID] {
			t.Errorf("rule %s is in the catalog twice", r.ID)
		}
		seen[r.ID] = true
		if r.Title == "" || r.Summary == "" || r.Remediation == "" || r.Severity == "" || r.Check == nil {
			t.Errorf("rule %s lacks a title, summary, remediation, severity or check: %+v", r.ID, r)
		}
	}
}
