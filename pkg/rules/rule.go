// Package rules is the catalog of checks (docs/rules.md): each rule is a pure
// function over collected Facts. It also picks the cause and builds the fix plan.
package rules

import (
	"fmt"

	"github.com/pullmedic/pullmedic/pkg/account"
)

type Status string

const (
	Pass  Status = "pass"
	Fail  Status = "fail"
	Warn  Status = "warn"
	Skip  Status = "skip"
	Error Status = "error"
)

type Severity string

const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
	Info     Severity = "info"
)

// Fix actions: the remediate function's whole vocabulary.
const (
	ActionAllowFromTask = "sg-allow-443-from-task"
	ActionAllowEgress   = "sg-allow-443-egress"
	ActionPublicIP      = "enable-public-ip"
)

// Rule is one check of the catalog.
type Rule struct {
	ID string
	// Title names the rule's failure in a few words, for subjects and
	// headlines; Summary says what must hold, which reads wrong there.
	Title       string
	Severity    Severity
	Summary     string // what must hold, one line
	Remediation string // generic advice when the check fails
	// Needs lists the reads the rule cannot do without; if one failed the
	// finding is "error" with its reason and Check is not called.
	Needs []account.Source
	Check func(f *account.Facts) Finding
	// Action is the automatic fix the rule's failures may carry, if any. A
	// remediation does not decide while such a rule is in error.
	Action string
}

// Fix is an automatic action attached to a failing finding.
type Fix struct {
	Action      string  `json:"action"`
	Target      string  `json:"target"`
	AutoFixable bool    `json:"autoFixable"`
	Params      *Params `json:"params,omitempty"`
}

// Params are a fix action's parameters; each action sets its own. The
// fields stand in the order of their JSON names, as the reports have
// always listed them.
type Params struct {
	Cluster      string        `json:"cluster,omitempty"`      // enable-public-ip: the service's cluster
	Destinations []Destination `json:"destinations,omitempty"` // sg-allow-443-egress: where 443 must go
	Endpoints    []string      `json:"endpoints,omitempty"`    // sg-allow-443-from-task: the endpoints behind the groups
	GroupID      string        `json:"groupId,omitempty"`      // sg-allow-443-egress: the task's group to open
	GroupIDs     []string      `json:"groupIds,omitempty"`     // sg-allow-443-from-task: the endpoint groups to open
	// enable-public-ip: the service's network configuration, kept as it is.
	SecurityGroups []string `json:"securityGroups,omitempty"`
	Service        string   `json:"service,omitempty"`
	// sg-allow-443-from-task: the task's group, the only source it admits.
	SourceGroupID string   `json:"sourceGroupId,omitempty"`
	Subnets       []string `json:"subnets,omitempty"`
}

// Destination is one place an egress fix lets TCP 443 go; exactly one field is set.
type Destination struct {
	CIDR         string `json:"cidr,omitempty"`
	GroupID      string `json:"groupId,omitempty"`
	PrefixListID string `json:"prefixListId,omitempty"`
}

// Finding is the result of one rule. Evidence key "chain" ([]string), when
// present, is the hop-by-hop path a reader follows to the fault.
type Finding struct {
	Rule     string         `json:"rule"`
	Status   Status         `json:"status"`
	Severity Severity       `json:"severity"`
	Message  string         `json:"message"`
	Evidence map[string]any `json:"evidence,omitempty"`
	Fix      *Fix           `json:"fix,omitempty"`
	Advice   string         `json:"advice,omitempty"`
}

// Evaluate runs every rule of the catalog over the facts, in catalog order.
func Evaluate(f *account.Facts) []Finding {
	out := make([]Finding, 0, len(Catalog))
	for _, r := range Catalog {
		out = append(out, r.run(f))
	}
	return out
}

func (r Rule) run(f *account.Facts) (fd Finding) {
	defer func() {
		if p := recover(); p != nil {
			fd = Finding{Status: Error, Message: fmt.Sprintf("internal error while evaluating: %v", p)}
		}
		fd.Rule = r.ID
		if fd.Severity == "" {
			fd.Severity = r.Severity
		}
		if fd.Status == Fail && fd.Advice == "" {
			fd.Advice = r.Remediation
		}
	}()
	if msg := f.Err(r.Needs...); msg != "" {
		return Finding{Status: Error, Message: "could not be evaluated: " + msg}
	}
	return r.Check(f)
}

// ByID returns a rule of the catalog.
func ByID(id string) (Rule, bool) {
	for _, r := range Catalog {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}
