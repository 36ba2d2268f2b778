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
	event.ClassRegistry: {"image.registry-rate-limit", "image.registry-auth", "image.pull-through-cache", "network."},
	event.ClassHost:     {"host."},
}

// Confidence says how far the facts bear the cause out.
type Confidence string

const (
	// Proven: the cause is a failing rule.
	Proven Confidence = "proven"
	// Likely: nothing fails, and the cause is a warning that fits the stop
	// reason: a path that cannot be proven, a resolver that cannot be seen.
	Likely Confidence = "likely"
)

// likelyWarns lists, per reason class, the rules whose warning may be named
// as the likely cause when nothing fails (docs/rules.md, Cause). A class not
// listed (unknown) names none: a warning alone, on a stop reason that says
// nothing, is not a cause.
var likelyWarns = map[event.ReasonClass][]string{
	event.ClassNetwork:  {"network.", "dns.", "host.agent"},
	event.ClassDNS:      {"dns."},
	event.ClassIAM:      {"iam."},
	event.ClassImage:    {"image."},
	event.ClassRegistry: {"image.registry-", "image.pull-through-cache"},
	event.ClassHost:     {"host."},
}

// Cause returns the single most likely root cause: the first failing finding
// in the order the reason class suggests (proven), else the first warning
// that fits the class (likely), else "".
func Cause(findings []Finding, class event.ReasonClass) (string, Confidence) {
	for _, prefix := range classOrder[class] {
		for _, f := range findings {
			if f.Status == Fail && strings.HasPrefix(f.Rule, prefix) {
				return f.Rule, Proven
			}
		}
	}
	for _, f := range findings {
		if f.Status == Fail {
			return f.Rule, Proven
		}
	}
	for _, prefix := range likelyWarns[class] {
		for _, f := range findings {
			if f.Status == Warn && strings.HasPrefix(f.Rule, prefix) {
				return f.Rule, Likely
			}
		}
	}
	return "", ""
}

// Step is one action of a fix plan.
type Step struct {
	Action string `json:"action"`
	Target string `json:"target"`
	Params Params `json:"params"`
}

// Plan collects the automatic fixes of failing findings, in application order.
func Plan(findings []Finding) []Step {
	plan := []Step{}
	for _, action := range actions {
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
