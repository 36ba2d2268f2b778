package rules

import (
	"strings"

	"github.com/pullmedic/pullmedic/pkg/event"
)

// classOrder lists, per reason class, the rule-ID prefixes to search first.
// The rest of the catalog follows in catalog order.
var classOrder = map[event.ReasonClass][]string{
	event.ClassNetwork:  {"network.", "dns."},
	event.ClassDNS:      {"dns.", "network.vpc-endpoints", "network.route"},
	event.ClassIAM:      {"iam.", "network.endpoint-policy", "image.registry-auth"},
	event.ClassImage:    {"image.repository", "image.tag", "image.platform", "iam.repository-policy"},
	event.ClassRegistry: {"image.registry-rate-limit", "image.registry-auth", "network."},
}

// Cause returns the single most likely root cause: the first failing finding in
// the order the reason class suggests, or "" when nothing fails.
func Cause(findings []Finding, class event.ReasonClass) string {
	for _, prefix := range classOrder[class] {
		for _, f := range findings {
			if f.Status == Fail && strings.HasPrefix(f.Rule, prefix) {
				return f.Rule
			}
		}
	}
	for _, f := range findings {
		if f.Status == Fail {
			return f.Rule
		}
	}
	return ""
}

// Step is one action of a fix plan.
type Step struct {
	Action string `json:"action"`
	Target string `json:"target"`
	Params Params `json:"params"`
}

// actionOrder is the order fixes are applied: make the endpoints accept the
// task, then let the task send, then give it a public address.
var actionOrder = []string{ActionAllowFromTask, ActionAllowEgress, ActionPublicIP}

// Plan collects the automatic fixes of failing findings, in application order.
func Plan(findings []Finding) []Step {
	plan := []Step{}
	for _, action := range actionOrder {
		for _, f := range findings {
			if f.Status != Fail || f.Fix == nil || !f.Fix.AutoFixable || f.Fix.Action != action {
				continue
			}
			var params Params
			if f.Fix.Params != nil {
				params = *f.Fix.Params
			}
			plan = append(plan, Step{Action: f.Fix.Action, Target: f.Fix.Target, Params: params})
		}
	}
	return plan
}
