package fix

import (
	"github.com/pullmedic/pullmedic/pkg/report"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

// SchemaV1 is the remediation result schema.
const SchemaV1 = "pullmedic.remediation/v1"

// Result is pullmedic.remediation/v1, what one remediation did and why:
//
//	{
//	  "schema":  "pullmedic.remediation/v1",
//	  "task":    { ...the report's task... },
//	  "mode":    "apply" | "dry-run" | "off",
//	  "outcome": "changed" | "unchanged" | "escalate" | "circuit-open" | "busy" | "refused",
//	  "reason":  "why a request was refused",
//	  "actions": [ { "action", "target", "peer", "status", "reason", "changeId" } ],
//	  "changes": [ Change... ],
//	  "before":  { "cause", "failing" },
//	  "after":   { "cause", "failing" }
//	}
//
// mode is what the cluster's tag (or --force / dry-run) allowed. outcome:
// changed (at least one write), unchanged (nothing written), escalate (the
// cause came back after a verified fix: a person must look, nothing was
// changed), circuit-open (too many fixes of this service in 24 h), busy
// (another remediation of the service holds the lock), refused (the
// request's task, service or placement is not what ECS and EC2 say: see
// reason; nothing was decided on it).
//
// An action's status is one of the Status constants. Each applied change has
// its Change record, also stored in the state table. before is the fresh
// diagnosis the decisions were made on; after is the diagnosis that verified
// the changes, present only when something was written.
type Result struct {
	Schema  string      `json:"schema"`
	Task    report.Task `json:"task"`
	Mode    string      `json:"mode"`
	Outcome string      `json:"outcome"`
	// Reason says why a request was refused.
	Reason  string         `json:"reason,omitempty"`
	Actions []ActionResult `json:"actions"`
	Changes []Change       `json:"changes"`
	Before  Summary        `json:"before"`
	After   *Summary       `json:"after,omitempty"`
}

// Outcomes of a remediation.
const (
	OutcomeChanged     = "changed"
	OutcomeUnchanged   = "unchanged"
	OutcomeEscalate    = "escalate"
	OutcomeCircuitOpen = "circuit-open"
	OutcomeBusy        = "busy"
	// OutcomeRefused: live state does not bear the request out (see Reason).
	OutcomeRefused = "refused"
)

// ActionResult is what happened to one write of a plan step. Peer is the
// other side of a security group rule: the group, prefix list or CIDR.
type ActionResult struct {
	Action   string `json:"action"`
	Target   string `json:"target"`
	Peer     string `json:"peer,omitempty"`
	Status   Status `json:"status"`
	Reason   string `json:"reason,omitempty"`
	ChangeID string `json:"changeId,omitempty"`
}

// Status of an action.
type Status string

const (
	// StatusPlanned: dry-run; the write would be made.
	StatusPlanned Status = "planned"
	// StatusApplied: written, not yet verified (only seen when verifying failed to run).
	StatusApplied Status = "applied"
	// StatusVerified: written, and a fresh diagnosis shows the rule passing.
	StatusVerified Status = "verified"
	// StatusNotVerified: written, but the rule still does not pass. Not rolled back.
	StatusNotVerified Status = "not-verified"
	// StatusAlreadyPresent: the account already was as asked; nothing written.
	StatusAlreadyPresent Status = "already-present"
	// StatusSkipped: the opt-in tag does not allow the action.
	StatusSkipped Status = "skipped"
	// StatusRefused: a guard rail said no, or the step was not in the fresh plan.
	StatusRefused Status = "refused"
	// StatusFailed: the write failed.
	StatusFailed Status = "failed"
)

// Summary is the part of a diagnosis a remediation result carries.
type Summary struct {
	Cause   *string  `json:"cause"`
	Failing []string `json:"failing"`
}

func summarize(r *report.Report) Summary {
	s := Summary{Cause: r.Cause, Failing: []string{}}
	for _, f := range r.Findings {
		if f.Status == rules.Fail {
			s.Failing = append(s.Failing, f.Rule)
		}
	}
	return s
}
