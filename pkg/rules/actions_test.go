package rules

import (
	"slices"
	"testing"
)

// The fix vocabulary is one list: every action a rule declares is in it, and
// every action in it is some rule's, so neither can drift from the other.
func TestActionsAreTheRulesFixes(t *testing.T) {
	declared := map[string]bool{}
	for _, r := range Catalog {
		if r.Action == "" {
			continue
		}
		declared[r.Action] = true
		if !IsAction(r.Action) {
			t.Errorf("rule %s declares action %q, which is not in Actions()", r.ID, r.Action)
		}
	}
	for _, a := range Actions() {
		if !declared[a] {
			t.Errorf("action %s is in Actions() but no rule declares it", a)
		}
	}
	if IsAction("delete-nat-gateway") || IsAction("") {
		t.Error("IsAction accepts a name outside the vocabulary")
	}
}

// Plan applies fixes in the order of Actions(), whatever the findings' order.
func TestPlanFollowsActionOrder(t *testing.T) {
	all := Actions()
	var findings []Finding
	for _, a := range slices.Backward(all) {
		findings = append(findings, Finding{Status: Fail, Fix: &Fix{Action: a, Target: "t-" + a, AutoFixable: true}})
	}
	var got []string
	for _, s := range Plan(findings) {
		got = append(got, s.Action)
	}
	if !slices.Equal(got, all) {
		t.Errorf("plan order = %v, want %v", got, all)
	}
}

// Actions hands out a copy: a caller that edits its opt-in cannot change the vocabulary.
func TestActionsIsACopy(t *testing.T) {
	a := Actions()
	a[0] = "changed"
	if Actions()[0] == "changed" {
		t.Error("Actions() returns the package's own slice")
	}
}
