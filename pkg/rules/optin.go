package rules

import (
	"slices"
	"strings"
)

// TagAutoFix is the cluster tag that opts a cluster into automatic fixes.
const TagAutoFix = "pullmedic:auto-fix"

// Modes of OptIn.
const (
	ModeOff    = "off"
	ModeDryRun = "dry-run"
	ModeApply  = "apply"
	// ModeApprove plans like "enabled" but applies only what a person approves
	// in Slack: diagnose posts the plan with buttons instead of handing it to
	// remediate, and remediate applies only a request that carries the approver.
	ModeApprove = "approve"
)

// OptIn is what a cluster's pullmedic:auto-fix tag permits.
type OptIn struct {
	OptedIn bool     `json:"optedIn"`
	Mode    string   `json:"mode"`
	Actions []string `json:"actions"`
}

// actions is the remediate function's whole vocabulary (the Action*
// constants), in the order a plan applies them: make the endpoints accept
// the task, then let the task send, then give it a public address.
var actions = []string{ActionAllowFromTask, ActionAllowEgress, ActionPublicIP}

// Actions returns every fix action, in the order a plan applies them.
func Actions() []string { return slices.Clone(actions) }

// IsAction reports whether s names a fix action.
func IsAction(s string) bool { return slices.Contains(actions, s) }

// defaultActions are what "enabled" allows: everything but egress, which must be named.
var defaultActions = []string{ActionAllowFromTask, ActionPublicIP}

// ParseOptIn reads the tag value. "enabled", "dry-run", "approve", or a
// comma-separated list of action names; case and spaces around words are
// forgiven. Anything else, or no tag, is off: a typo must never widen what
// pullmedic may change.
func ParseOptIn(value string, present bool) OptIn {
	off := OptIn{Mode: ModeOff, Actions: []string{}}
	if !present {
		return off
	}
	v := strings.ToLower(strings.TrimSpace(value))
	switch v {
	case "enabled":
		return OptIn{OptedIn: true, Mode: ModeApply, Actions: append([]string{}, defaultActions...)}
	case "dry-run":
		return OptIn{OptedIn: true, Mode: ModeDryRun, Actions: append([]string{}, defaultActions...)}
	case "approve":
		return OptIn{OptedIn: true, Mode: ModeApprove, Actions: append([]string{}, defaultActions...)}
	}
	var actions []string
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if !IsAction(part) {
			return off
		}
		if !Contains(actions, part) {
			actions = append(actions, part)
		}
	}
	return OptIn{OptedIn: true, Mode: ModeApply, Actions: actions}
}

// Allows reports whether the opt-in lets the action be applied (not only planned).
func (o OptIn) Allows(action string) bool {
	return o.Mode == ModeApply && Contains(o.Actions, action)
}

// Contains reports whether list holds s.
func Contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
