// Package triage is the diagnose function's flow. For a stopped task, three
// steps: the gate (drop redeliveries, count the task in its dedupe window);
// for the one task per window that needs it, diagnose and notify; and hand
// the fix plan to the remediate function. For a completed deployment or a
// service in steady state: say "resolved" for the service's notified problems.
//
// The state table gates everything but notifying: when it is unreachable,
// every event is diagnosed and notified (fail open) and nothing is fixed
// (fail closed). When an invocation fails, it takes back its claim on the
// event and its count, so that Lambda's retry of the event passes the gate
// again; it keeps its delivery records, so that the retry sends the notice
// only on the channels that did not take it. Every step, and every call of
// the table and of a channel, has a deadline (deadline.go).
package triage

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
	"github.com/pullmedic/pullmedic/pkg/fix"
	"github.com/pullmedic/pullmedic/pkg/notify"
	"github.com/pullmedic/pullmedic/pkg/report"
	"github.com/pullmedic/pullmedic/pkg/rules"
	"github.com/pullmedic/pullmedic/pkg/state"
)

// State is the part of the state table the flow uses; *state.Table implements it.
type State interface {
	ClaimEvent(ctx context.Context, id string) (bool, error)
	ReleaseEvent(ctx context.Context, id string) error
	Count(ctx context.Context, key state.DedupeKey, eventID string, taskTime time.Time) (*state.Window, error)
	Notified(ctx context.Context, w *state.Window, cause string) error
	Undo(ctx context.Context, w *state.Window) error
	OpenWindows(ctx context.Context, cluster state.Cluster, group string, classes []string) ([]*state.Window, error)
	Close(ctx context.Context, w *state.Window) (bool, error)
	Reopen(ctx context.Context, w *state.Window) error
	RecentFixes(ctx context.Context, cluster state.Cluster, service string) ([]state.Fix, error)
	Delivered(ctx context.Context, noticeID, channel string) (bool, error)
	MarkDelivered(ctx context.Context, noticeID, channel string) error
	PutApproval(ctx context.Context, a *state.Approval) error
}

// Invoker is the part of the Lambda client that starts the remediate function.
type Invoker interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// Handler handles the EventBridge events the diagnose function receives. All
// fields are required but Admission.
type Handler struct {
	View      account.View
	State     State
	Channels  notify.Channels
	Invoker   Invoker
	Remediate string // the remediate function's name or ARN
	Metrics   *notify.Metrics
	Log       *slog.Logger
	// Admission, in hub mode, refuses events from accounts outside the
	// organization or account list. nil serves every account (single-account
	// mode reads only its own anyway).
	Admission account.Admitter
}

// table is the state table with a deadline on every call.
func (h *Handler) table() State { return timed{h.State} }

// classes are the reason classes a service's problems can be filed under.
var classes = []string{
	string(event.ClassNetwork), string(event.ClassDNS), string(event.ClassIAM),
	string(event.ClassImage), string(event.ClassRegistry), string(event.ClassHost), string(event.ClassUnknown),
}

// Handle handles an "ECS Task State Change", "ECS Deployment State Change" or
// "ECS Service Action" event. A malformed event is logged and dropped, since
// retrying cannot mend it; any other failure is returned, so that Lambda
// retries the event and finally hands it to the function's failure destination.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) error {
	ctx, cancel := budget(ctx)
	defer cancel()
	switch event.DetailType(raw) {
	case event.DetailTypeDeployment, event.DetailTypeServiceAction:
		return h.deployment(ctx, raw)
	}
	task, err := event.Parse(raw)
	var bad *event.InputError
	switch {
	case errors.Is(err, event.ErrNothingToDiagnose):
		h.Log.InfoContext(ctx, "not an image pull failure", "task", task.TaskArn, "stoppedReason", task.StoppedReason)
		return nil
	case errors.As(err, &bad):
		h.Log.ErrorContext(ctx, "malformed event dropped", "error", err)
		return nil
	case err != nil:
		return err
	}
	if ok, err := h.admit(ctx, task.Account); !ok || err != nil {
		return err
	}
	return h.stoppedTask(ctx, raw, task)
}

// admit checks, before anything is written, that the hub serves the event's
// account. The bus policy refuses other accounts at the door; this refuses a
// direct invoke that names one, with a log line and the EventsRefused metric.
// An account whose role cannot be assumed passes: its diagnosis says "cannot
// read account X". A check that fails otherwise fails the invocation
// (Lambda retries), since an unproven account is never read.
func (h *Handler) admit(ctx context.Context, acct string) (bool, error) {
	if h.Admission == nil {
		return true, nil
	}
	err := h.Admission.Admit(ctx, acct)
	var denied *account.AccessError
	switch {
	case errors.Is(err, account.ErrNotMember):
		h.Log.WarnContext(ctx, "event refused: account not served by this hub", "account", acct, "error", err)
		h.Metrics.Count(notify.EventsRefused, 1)
		return false, nil
	case errors.As(err, &denied):
		h.Log.WarnContext(ctx, "account membership unknown: its role cannot be assumed", "account", acct, "error", err)
	case err != nil:
		return false, fmt.Errorf("check account %s: %w", acct, err)
	}
	return true, nil
}

// groupOf is the ECS group of the task: "service:NAME" or "family:NAME".
func groupOf(t *event.Task) string {
	if t.Group != "" {
		return t.Group
	}
	if t.Service != "" {
		return "service:" + t.Service
	}
	// arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION
	family := t.TaskDefinitionArn[strings.LastIndex(t.TaskDefinitionArn, "/")+1:]
	if i := strings.LastIndex(family, ":"); i >= 0 {
		family = family[:i]
	}
	return "family:" + family
}

// stoppedTask runs the three steps for a stopped task. A step that fails
// rolls the gate back, so that Lambda's retry of the event runs them again.
func (h *Handler) stoppedTask(ctx context.Context, raw json.RawMessage, task *event.Task) error {
	// EventBridge always sets an ID; a hand-made event falls back on the task,
	// which stops only once.
	id := cmp.Or(task.EventID, task.TaskArn)
	key := state.DedupeKey{Cluster: fix.Cluster(task), Group: groupOf(task), Class: string(task.Class)}
	log := h.Log.With("event", id, "account", task.Account, "region", task.Region, "cluster", key.Cluster.Name,
		"group", key.Group, "task", task.TaskID(), "class", key.Class)

	p := h.gate(ctx, log, id, key, task.Time)
	if p == nil {
		return nil
	}
	n, err := h.diagnose(ctx, log, task, key, p.w)
	if err == nil && fixable(p.w, n) && awaitsApproval(n) {
		err = h.askApproval(ctx, log, raw, p.w, n)
	}
	if err == nil {
		err = h.notify(ctx, log, p.w, n)
	}
	if err != nil {
		h.rollback(ctx, log, p)
		return err
	}
	if !fixable(p.w, n) || awaitsApproval(n) {
		return nil
	}
	if err := h.handOff(ctx, raw, n.Report); err != nil {
		h.rollback(ctx, log, p)
		return err
	}
	log.InfoContext(ctx, "remediate invoked", "mode", n.Report.AutoFix.Mode, "steps", len(n.Report.Plan))
	return nil
}

// pass is what the gate let through: its claim on the event and the window
// the task opened or rolled. Without the table both are empty.
type pass struct {
	event   string
	claimed bool
	w       *state.Window // nil: notify without records, and never fix
}

// gate claims the event and counts its task in the dedupe window, within
// gateStep. It returns nil for an event to drop: a redelivery, or a task
// counted in a window already notified. A table that fails lets the task
// through without a window.
func (h *Handler) gate(ctx context.Context, log *slog.Logger, id string, key state.DedupeKey, taskTime time.Time) *pass {
	ctx, cancel := context.WithTimeout(ctx, gateStep)
	defer cancel()
	claimed, err := h.table().ClaimEvent(ctx, id)
	if err == nil && !claimed {
		log.InfoContext(ctx, "duplicate event dropped")
		return nil
	}
	p := &pass{event: id, claimed: claimed}
	if err == nil {
		p.w, err = h.table().Count(ctx, key, id, taskTime)
	}
	if err != nil {
		log.ErrorContext(ctx, "state table unreachable: notifying without dedupe, not remediating", "error", err)
		return p
	}
	if p.w.Outcome == state.Counted {
		h.Metrics.PullFailure(cmp.Or(p.w.Cause, "unknown"))
		h.Metrics.Count(notify.Deduplicated, 1)
		log.InfoContext(ctx, "counted in an open window", "count", p.w.Count, "since", p.w.Since)
		return nil
	}
	return p
}

// diagnose collects the task's facts within diagnoseStep and writes the
// notice the window calls for: the problem, still failing, or resolved when
// a rolled window's new diagnosis finds nothing failing.
func (h *Handler) diagnose(ctx context.Context, log *slog.Logger, task *event.Task, key state.DedupeKey, w *state.Window) (*notify.Notice, error) {
	ctx, cancel := context.WithTimeout(ctx, diagnoseStep)
	defer cancel()
	started := time.Now()
	facts, err := h.View.Collect(ctx, task)
	var denied *account.AccessError
	switch {
	case errors.As(err, &denied):
		// A member without the role: a notice that says so, never silence.
		facts = account.Unreadable(task, denied)
	case err != nil:
		return nil, fmt.Errorf("collect facts for %s: %w", task.TaskArn, err)
	default:
		if reads := account.Denied(facts); len(reads) > 0 {
			denied = &account.AccessError{Account: task.Account, Err: errors.New(strings.Join(reads, "; "))}
		}
	}
	unreadable := ""
	if denied != nil {
		unreadable = denied.Error()
		h.Metrics.Count(notify.AccountsUnreadable, 1)
		log.WarnContext(ctx, "cannot read the account", "error", unreadable)
	}
	rep := report.Build(facts)
	h.Metrics.Duration(notify.DiagnosisMillis, time.Since(started))
	cause := aws.ToString(rep.Cause)
	h.Metrics.PullFailure(cmp.Or(cause, "none"))

	n := &notify.Notice{
		Kind: notify.Problem, Report: rep, Account: task.Account, Region: task.Region, Cluster: key.Cluster.Name,
		Group: key.Group, Time: task.Time, Unreadable: unreadable,
		Links: notify.Links(task.Region, key.Cluster.Name, key.Group, rep, facts),
	}
	if w != nil && w.Outcome == state.Rolled {
		n.Kind, n.Count, n.Since = notify.StillFailing, w.Count, w.Since
		if cleared(rep) {
			n.Kind, n.Cause, n.Reason = notify.Resolved, w.Cause, "a new diagnosis finds nothing failing"
		}
	}
	if w != nil && n.Kind != notify.Resolved {
		n.Escalation = h.escalation(ctx, log, task, cause)
	}
	return n, nil
}

// notify delivers the notice and records it in the window: closed when
// resolved, else notified with its cause.
func (h *Handler) notify(ctx context.Context, log *slog.Logger, w *state.Window, n *notify.Notice) error {
	sent, err := h.deliver(ctx, log, n, w)
	if err != nil {
		return fmt.Errorf("notify %s/%s: %w", n.Cluster, n.Group, err)
	}
	if sent {
		h.Metrics.Count(notify.Notifications, 1)
	}
	log.InfoContext(ctx, "notified", "kind", n.Kind, "cause", n.CauseID(), "sent", sent)
	switch {
	case w == nil:
	case n.Kind == notify.Resolved:
		if _, err := h.table().Close(ctx, w); err != nil {
			log.ErrorContext(ctx, "could not close the resolved window", "error", err)
		}
	default:
		// A diagnosis that names no cause keeps the one notified before.
		if err := h.table().Notified(ctx, w, cmp.Or(aws.ToString(n.Report.Cause), w.Cause)); err != nil {
			log.ErrorContext(ctx, "could not record the notice", "error", err)
		}
	}
	return nil
}

// fixable reports whether the notice's plan goes to the remediate function:
// only with the table (its window is the lock), for a problem not resolved,
// in a cluster opted in, in an account it could read, and not escalated to a person.
func fixable(w *state.Window, n *notify.Notice) bool {
	rep := n.Report
	return w != nil && n.Kind != notify.Resolved && n.Escalation == nil && n.Unreadable == "" &&
		rep.AutoFix.OptedIn && rep.AutoFix.Mode != rules.ModeOff && len(rep.Plan) > 0
}

// escalation finds the verified fix of this cause that the problem outlived.
// The remediate function will not fix it again (its circuit breaker reads
// the same record), so the notice hands the problem to a person. A failed
// read only costs the escalation wording: remediate fails closed on its own.
func (h *Handler) escalation(ctx context.Context, log *slog.Logger, task *event.Task, cause string) *notify.Escalation {
	if cause == "" {
		return nil
	}
	recent, err := h.State.RecentFixes(ctx, fix.Cluster(task), fix.Scope(task))
	if err != nil {
		log.ErrorContext(ctx, "could not read the service's recent fixes", "error", err)
		return nil
	}
	f, again := state.VerifiedFix(recent, cause)
	if !again {
		return nil
	}
	log.WarnContext(ctx, "cause came back after a verified fix: escalated", "cause", cause, "fixedAt", f.At, "changes", f.Changes)
	return &notify.Escalation{FixedAt: f.At, Changes: f.Changes}
}

// cleared reports whether every check ran and none fails: only then may a
// diagnosis call a notified problem resolved.
func cleared(r *report.Report) bool {
	for _, f := range r.Findings {
		if f.Status == rules.Fail || f.Status == rules.Error {
			return false
		}
	}
	return true
}

// handOff starts the remediate function asynchronously, within handOffStep,
// with the event and the plan; it re-diagnoses and reads the cluster's tag itself.
func (h *Handler) handOff(ctx context.Context, raw json.RawMessage, rep *report.Report) error {
	ctx, cancel := context.WithTimeout(ctx, handOffStep)
	defer cancel()
	payload, err := json.Marshal(remediateRequest(raw, rep))
	if err != nil {
		return fmt.Errorf("encode remediate request: %w", err)
	}
	_, err = h.Invoker.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   aws.String(h.Remediate),
		InvocationType: lambdatypes.InvocationTypeEvent,
		Payload:        payload,
	})
	if err != nil {
		return fmt.Errorf("invoke %s: %w", h.Remediate, err)
	}
	return nil
}

// rollback takes back what the gate wrote, so that Lambda's retry of the
// event passes it again and gets the same window. Delivery records stay. It
// runs even when the invocation's budget is spent.
func (h *Handler) rollback(ctx context.Context, log *slog.Logger, p *pass) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTime)
	defer cancel()
	if p.w != nil {
		if err := h.table().Undo(ctx, p.w); err != nil {
			log.ErrorContext(ctx, "rollback: could not undo the window", "error", err)
		}
	}
	if p.claimed {
		if err := h.table().ReleaseEvent(ctx, p.event); err != nil {
			log.ErrorContext(ctx, "rollback: could not release the event; its retry will be dropped", "error", err)
		}
	}
}

// deployment says "resolved" for each notified problem of a service whose
// deployment completed or that reached a steady state: its tasks run again.
func (h *Handler) deployment(ctx context.Context, raw json.RawMessage) error {
	d, err := event.ParseDeployment(raw)
	var bad *event.InputError
	if errors.As(err, &bad) {
		h.Log.ErrorContext(ctx, "malformed event dropped", "error", err)
		return nil
	}
	if err != nil {
		return err
	}
	if !d.Recovered() {
		return nil
	}
	reason := "deployment " + d.DeploymentID + " completed"
	if d.EventName == event.ServiceSteadyState {
		reason = "the service reached a steady state"
	}
	acct := sourceAccount(raw, d.ServiceArn)
	if ok, err := h.admit(ctx, acct); !ok || err != nil {
		return err
	}
	group := "service:" + d.Service
	cluster := state.Cluster{Account: acct, Region: d.Region, Name: d.Cluster}
	log := h.Log.With("event", d.EventID, "account", acct, "region", d.Region, "cluster", d.Cluster, "group", group,
		"eventName", d.EventName, "deployment", d.DeploymentID)
	open, err := h.resolvable(ctx, log, d.EventID, cluster, group)
	if err != nil {
		return err
	}
	p := &pass{event: d.EventID, claimed: true}
	for _, w := range open {
		closed, err := h.table().Close(ctx, w)
		if err != nil {
			h.rollback(ctx, log, p)
			return err
		}
		if !closed {
			continue // a newer failure rolled it, or another instance resolved it
		}
		n := &notify.Notice{
			Kind: notify.Resolved, Account: acct, Region: d.Region, Cluster: d.Cluster, Group: group, Time: d.Time,
			Count: w.Count, Since: w.Since, Cause: w.Cause, Reason: reason,
			Links: notify.Links(d.Region, d.Cluster, group, nil, nil),
		}
		sent, err := h.deliver(ctx, log, n, w)
		if err != nil {
			if rerr := h.table().Reopen(context.WithoutCancel(ctx), w); rerr != nil {
				log.ErrorContext(ctx, "rollback: could not reopen the window", "error", rerr)
			}
			h.rollback(ctx, log, p)
			return fmt.Errorf("notify %s/%s resolved: %w", d.Cluster, group, err)
		}
		if sent {
			h.Metrics.Count(notify.Notifications, 1)
		}
		log.InfoContext(ctx, "resolved", "cause", w.Cause, "failedTasks", w.Count, "sent", sent)
	}
	return nil
}

// resolvable is the deployment's gate, within gateStep: it claims the event
// and reads the group's notified windows; none for a redelivery.
// Without the table there is nothing to resolve: it fails, so the event is kept.
func (h *Handler) resolvable(ctx context.Context, log *slog.Logger, id string, cluster state.Cluster, group string) ([]*state.Window, error) {
	ctx, cancel := context.WithTimeout(ctx, gateStep)
	defer cancel()
	claimed, err := h.table().ClaimEvent(ctx, id)
	if err != nil || !claimed {
		return nil, err
	}
	open, err := h.table().OpenWindows(ctx, cluster, group, classes)
	if err != nil {
		h.rollback(ctx, log, &pass{event: id, claimed: true})
		return nil, err
	}
	return open, nil
}

// sourceAccount is the account a service event comes from: the envelope's
// "account" (EventBridge sets it to the account the event happened in, also
// after forwarding to a hub bus), else the service ARN's.
func sourceAccount(raw json.RawMessage, serviceArn string) string {
	var env struct {
		Account string `json:"account"`
	}
	if json.Unmarshal(raw, &env) == nil && env.Account != "" {
		return env.Account
	}
	if a, err := arn.Parse(serviceArn); err == nil {
		return a.AccountID
	}
	return ""
}
