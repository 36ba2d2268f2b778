// Package report turns findings into the pullmedic.report/v1 document and its text rendering.
package report

import (
	"cmp"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

// SchemaV1 is the report schema.
const SchemaV1 = "pullmedic.report/v1"

// Task is the report's summary of the stopped task.
type Task struct {
	TaskArn    string `json:"taskArn"`
	ClusterArn string `json:"clusterArn"`
	// Account and Region are where the task ran: always set, from the
	// event, else its ARN, else the snapshot.
	Account           string   `json:"account"`
	Region            string   `json:"region"`
	Service           *string  `json:"service"`
	TaskDefinitionArn string   `json:"taskDefinitionArn"`
	LaunchType        string   `json:"launchType"`
	PlatformVersion   string   `json:"platformVersion"`
	SubnetID          string   `json:"subnetId"`
	SecurityGroups    []string `json:"securityGroups"`
	Images            []string `json:"images"`
	StoppedReason     string   `json:"stoppedReason"`
	// FailedContainer is the container whose image failed, and FailedHost
	// the host (or IP) the failed connection named, when the event says.
	FailedContainer string `json:"failedContainer,omitempty"`
	FailedHost      string `json:"failedHost,omitempty"`
}

// Mode says what kind of task a report judges.
type Mode string

// ModePreflight is the report of a task that has not run yet (pullmedic
// preflight): the service's network configuration with a task definition,
// judged before a deployment. It has no stop reason.
const ModePreflight Mode = "preflight"

// Report is pullmedic.report/v1.
type Report struct {
	Schema string `json:"schema"`
	// Mode is empty, and absent from the JSON, for the diagnosis of a stopped
	// task, so those reports read as they always did.
	Mode        Mode              `json:"mode,omitempty"`
	Task        Task              `json:"task"`
	ReasonClass event.ReasonClass `json:"reasonClass"`
	Cause       *string           `json:"cause"`
	// Confidence is "proven" for a failing rule, "likely" for a warning
	// that fits the stop reason when nothing fails; absent without a cause.
	Confidence rules.Confidence `json:"confidence,omitempty"`
	// Inconclusive is set when no rule failed but some could not be
	// evaluated: a failed read is not evidence that the task can pull.
	Inconclusive bool `json:"inconclusive,omitempty"`
	// Unchecked lists every rule in error, failing report or not.
	Unchecked []Unchecked     `json:"unchecked,omitempty"`
	Findings  []rules.Finding `json:"findings"`
	Plan      []rules.Step    `json:"plan"`
	AutoFix   rules.OptIn     `json:"autoFix"`
	// Truncated says what was cut from this copy of the report to fit a
	// channel's size limit (SNS); empty in a whole report.
	Truncated string `json:"truncated,omitempty"`
}

// Unchecked is a rule that could not be evaluated, and why: the read that
// failed, as the finding's message names it.
type Unchecked struct {
	Rule   string `json:"rule"`
	Reason string `json:"reason"`
}

// LeavesOpen is what stays unknown while the rule is unchecked: what the rule
// would have proven. It is "" for a rule the catalog does not know.
func (u Unchecked) LeavesOpen() string {
	r, _ := rules.ByID(u.Rule)
	return r.Summary
}

// Build evaluates the catalog over the facts and assembles the report.
func Build(f *account.Facts) *Report {
	t := f.Task
	findings := rules.Evaluate(f)
	plan := rules.Plan(findings)
	tag, present := f.ClusterTag(rules.TagAutoFix)
	optIn := rules.ParseOptIn(tag, present)
	runnable := []string{}
	for _, s := range plan {
		if rules.Contains(optIn.Actions, s.Action) && !rules.Contains(runnable, s.Action) {
			runnable = append(runnable, s.Action)
		}
	}
	optIn.Actions = runnable

	r := &Report{
		Schema: SchemaV1,
		Task: Task{
			TaskArn:           t.TaskArn,
			ClusterArn:        t.ClusterArn,
			Account:           cmp.Or(t.Account, f.Account),
			Region:            cmp.Or(t.Region, f.Region),
			TaskDefinitionArn: t.TaskDefinitionArn,
			LaunchType:        t.LaunchType,
			PlatformVersion:   t.PlatformVersion,
			SubnetID:          t.SubnetID,
			SecurityGroups:    nonNil(f.TaskSecurityGroups()),
			Images:            nonNil(t.Images()),
			StoppedReason:     t.Failure,
			FailedContainer:   t.FailedContainer,
			FailedHost:        t.FailedHost,
		},
		ReasonClass: t.Class,
		Findings:    findings,
		Plan:        plan,
		AutoFix:     optIn,
	}
	if t.Service != "" {
		r.Task.Service = aws.String(t.Service)
	}
	if c, conf := rules.Cause(findings, t.Class); c != "" {
		r.Cause, r.Confidence = aws.String(c), conf
	}
	for _, f := range findings {
		if f.Status == rules.Error {
			r.Unchecked = append(r.Unchecked, Unchecked{Rule: f.Rule, Reason: f.Message})
		}
	}
	r.Inconclusive = len(r.Unchecked) > 0 && !r.Failing()
	return r
}

// Finding returns the finding of a rule, if it was evaluated.
func (r *Report) Finding(id string) (rules.Finding, bool) {
	for _, f := range r.Findings {
		if f.Rule == id {
			return f, true
		}
	}
	return rules.Finding{}, false
}

// Failing reports whether any rule failed.
func (r *Report) Failing() bool {
	for _, f := range r.Findings {
		if f.Status == rules.Fail {
			return true
		}
	}
	return false
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
