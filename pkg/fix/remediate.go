// Package fix applies the automatic fixes of a diagnosis, guarded, idempotent
// and verified, and records every change so that it can be undone.
//
// Remediate never trusts what it is told: it diagnoses the task again on
// fresh state, reads the cluster's opt-in tag from that state, and applies
// only the fresh plan's steps that the tag allows and the guard rails accept.
// Writes go through a Writer: live (SDK) or a snapshot in memory.
package fix

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
	"github.com/pullmedic/pullmedic/pkg/report"
	"github.com/pullmedic/pullmedic/pkg/rules"
	"github.com/pullmedic/pullmedic/pkg/state"
)

// DefaultMaxFixesPerDay is the circuit breaker's default limit per service.
const DefaultMaxFixesPerDay = 3

// defaultLockTTL outlives any one remediation, so a crashed run frees the service soon.
const defaultLockTTL = 5 * time.Minute

// Store is the shared state a remediation needs: a lock per service, the
// circuit breaker's history, and the change records, written ahead of each
// write. *state.Ledger implements it.
type Store interface {
	Lock(ctx context.Context, cluster state.Cluster, service, owner string, ttl time.Duration) (unlock func(context.Context) error, err error)
	RecentFixes(ctx context.Context, cluster state.Cluster, service string) ([]state.Fix, error)
	RecordFix(ctx context.Context, cluster state.Cluster, service string, f state.Fix) error
	PutChange(ctx context.Context, id string, rec any) error
	GetChange(ctx context.Context, id string, rec any) error
	PutRun(ctx context.Context, id string, rec any) error
	GetRun(ctx context.Context, id string, rec any) (bool, error)
}

// Options configure one remediation.
type Options struct {
	View   account.View
	Writer Writer
	// Store is the state table. Without one (the CLI on a snapshot) there is
	// no lock, no circuit breaker and no stored audit record.
	Store Store
	// Force ignores the cluster's opt-in tag: a person at a terminal decided.
	// The guard rails still hold.
	Force bool
	// DryRun plans and reports but writes nothing.
	DryRun bool
	// Who is recorded on every change: the function ARN, or "cli:<user>".
	Who string
	// ApprovedBy is the person who approved this fix in Slack. On a cluster
	// tagged "approve" only an approved request applies; it is recorded on
	// every change (Why.ApprovedBy).
	ApprovedBy string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxFixesPerDay is the circuit breaker's limit; 0 means DefaultMaxFixesPerDay.
	MaxFixesPerDay int
	// Requested is the plan the caller computed. It decides nothing: steps
	// that a fresh diagnosis does not plan are reported as refused.
	Requested []rules.Step
	Logger    *slog.Logger
}

// run is one remediation in progress.
type run struct {
	Options
	task  *event.Task
	now   time.Time
	facts *account.Facts
	rep   *report.Report
	opt   rules.OptIn
	res   *Result
	ops   []pending
}

// pending is a resolved write waiting to be applied, with the ID its change
// will have and its line in the result. retried: an earlier try of the same
// request wrote its intent, so finding it already made means that try made it.
type pending struct {
	op
	id      string
	line    int
	retried bool
}

// Remediate diagnoses the task on fresh state and applies the fixes that are
// still needed, allowed and safe. The error is non-nil when nothing may be
// decided (a read the guard rails need failed, or the table is unreachable)
// or when a write or its record failed: the caller's retry then completes
// the work, reporting what the earlier try changed. A request that live
// state does not bear out returns a result with outcome "refused", no error.
func Remediate(ctx context.Context, o Options, t *event.Task) (*Result, error) {
	if o.View == nil || o.Writer == nil || t == nil {
		return nil, errors.New("fix: Remediate needs a View, a Writer and a task")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxFixesPerDay <= 0 {
		o.MaxFixesPerDay = DefaultMaxFixesPerDay
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	r := &run{Options: o, task: t, now: o.Now().UTC()}
	if err := r.prepare(ctx); err != nil || r.res.Outcome == OutcomeRefused {
		return r.res, err
	}
	if r.opt.Mode == rules.ModeApply && r.Store != nil {
		prev, err := r.loadRun(ctx)
		if err != nil {
			return nil, err
		}
		if len(r.ops) > 0 || len(prev.Intents) > 0 {
			unlock, err := r.lock(ctx, len(prev.Intents) > 0)
			if err != nil || unlock == nil {
				return r.res, err
			}
			defer r.release(ctx, unlock)
			// Under the lock, decide again: another run may have fixed it meanwhile.
			if err := r.prepare(ctx); err != nil || r.res.Outcome == OutcomeRefused {
				return r.res, err
			}
			if err := r.recover(ctx, prev); err != nil {
				return r.res, err
			}
			if outcome, err := r.breaker(ctx); err != nil || outcome != "" {
				r.hold(outcome)
				return r.res, err
			}
			if err := r.begin(ctx, prev); err != nil {
				return r.res, err
			}
		}
	}
	if r.opt.Mode != rules.ModeApply {
		return r.res, nil
	}
	errs := r.apply(ctx)
	if len(r.res.Changes) > 0 {
		r.verify(ctx)
		errs = append(errs, r.recordFix(ctx))
	}
	return r.res, errors.Join(errs...)
}

// prepare diagnoses on fresh state, grounds the request in it, and decides.
// A refusal leaves a result with outcome "refused".
func (r *run) prepare(ctx context.Context) error {
	if err := r.diagnose(ctx); err != nil {
		return err
	}
	err := ground(r.facts, r.now)
	if err == nil {
		err = guardReads(r.facts, r.rep)
	}
	if ref := asRefusal(err); ref != nil {
		r.refused(ref)
		return nil
	}
	if err != nil {
		return err
	}
	r.decide()
	return nil
}

// guardSources are the reads the guard rails decide on. When one failed,
// nothing is decided: the error makes the caller retry, and a fix is never
// planned, or withheld, on a guess.
var guardSources = []account.Source{
	account.SrcCluster, account.SrcService, account.SrcTask, account.SrcSubnet, account.SrcVPC,
	account.SrcRouteTables, account.SrcInternetGateways, account.SrcNATGateways, account.SrcVPCEndpoints,
	account.SrcSecurityGroups, account.SrcPrefixLists, account.SrcNetworkInterfaces,
}

// guardReads fails when a read the guard rails need failed, or a rule whose
// failures carry a fix is in error: deciding then could miss a needed fix
// and report "unchanged" for a problem that is still there.
func guardReads(f *account.Facts, rep *report.Report) error {
	if msg := f.Err(guardSources...); msg != "" {
		return fmt.Errorf("fresh diagnosis could not read what the guard rails need, not deciding: %s", msg)
	}
	for _, fd := range rep.Findings {
		if r, ok := rules.ByID(fd.Rule); ok && r.Action != "" && fd.Status == rules.Error {
			return fmt.Errorf("fresh diagnosis could not evaluate %s, whose fix is %s, not deciding: %s", fd.Rule, r.Action, fd.Message)
		}
	}
	return nil
}

// refused reports a request that live state does not bear out.
func (r *run) refused(ref *Refusal) {
	r.opt, r.ops = rules.OptIn{Mode: rules.ModeOff}, nil
	r.res = &Result{
		Schema: SchemaV1, Task: r.rep.Task, Mode: rules.ModeOff, Outcome: OutcomeRefused, Reason: ref.Reason,
		Actions: []ActionResult{}, Changes: []Change{}, Before: summarize(r.rep),
	}
	r.Logger.Warn("remediation refused", "task", r.task.TaskArn, "reason", r.res.Reason)
}

// diagnose collects fresh facts and evaluates them.
func (r *run) diagnose(ctx context.Context) error {
	f, err := r.View.Collect(ctx, r.task)
	if err != nil {
		return fmt.Errorf("collect the task's state: %w", err)
	}
	r.facts, r.rep = f, report.Build(f)
	return nil
}

// optIn is what the fresh tag (or Force, or DryRun) allows.
func (r *run) optIn() rules.OptIn {
	tag, present := r.facts.ClusterTag(rules.TagAutoFix)
	opt := rules.ParseOptIn(tag, present)
	if r.Force {
		// --force permits every action.
		opt = rules.OptIn{OptedIn: true, Mode: rules.ModeApply, Actions: rules.Actions()}
	}
	// The fresh tag must still ask for approval: a cluster switched off since
	// the click is not changed.
	if opt.Mode == rules.ModeApprove && r.ApprovedBy != "" {
		opt.Mode = rules.ModeApply
	}
	if r.DryRun && opt.Mode == rules.ModeApply {
		opt.Mode = rules.ModeDryRun
	}
	return opt
}

// decide turns the fresh plan into result lines and pending writes.
func (r *run) decide() {
	r.opt = r.optIn()
	r.ops = nil
	r.res = &Result{
		Schema: SchemaV1, Task: r.rep.Task, Mode: r.opt.Mode, Outcome: OutcomeUnchanged,
		Actions: []ActionResult{}, Changes: []Change{}, Before: summarize(r.rep),
	}
	for _, s := range r.rep.Plan {
		if !slices.Contains(r.opt.Actions, s.Action) {
			r.add(ActionResult{Action: s.Action, Target: s.Target, Status: StatusSkipped,
				Reason: fmt.Sprintf("the cluster's %s tag does not allow %s", rules.TagAutoFix, s.Action)})
			continue
		}
		ops, err := resolve(r.facts, s, r.ruleOf(s), r.now)
		if err != nil {
			r.add(ActionResult{Action: s.Action, Target: s.Target, Status: StatusRefused, Reason: err.Error()})
			continue
		}
		for _, o := range ops {
			r.ops = append(r.ops, pending{op: o, id: changeID(r.request(), o), line: len(r.res.Actions)})
			r.add(ActionResult{Action: o.action, Target: o.target, Peer: o.peer(), Status: StatusPlanned})
		}
	}
	r.refuseUnplanned()
}

// ruleOf is the failing rule whose fix the step is.
func (r *run) ruleOf(s rules.Step) string {
	for _, f := range r.rep.Findings {
		if f.Status == rules.Fail && f.Fix != nil && f.Fix.Action == s.Action && f.Fix.Target == s.Target {
			return f.Rule
		}
	}
	return ""
}

// ReasonNotPlanned refuses a requested step that a fresh diagnosis does not
// plan: most often, someone fixed it meanwhile.
const ReasonNotPlanned = "not in the plan of a fresh diagnosis"

// refuseUnplanned reports the requested steps a fresh diagnosis does not plan.
func (r *run) refuseUnplanned() {
	for _, s := range r.Requested {
		planned := slices.ContainsFunc(r.rep.Plan, func(p rules.Step) bool { return p.Action == s.Action && p.Target == s.Target })
		if !planned {
			r.Logger.Warn("requested step not in the fresh plan", "action", s.Action, "target", s.Target, "task", r.task.TaskArn)
			r.add(ActionResult{Action: s.Action, Target: s.Target, Status: StatusRefused, Reason: ReasonNotPlanned})
		}
	}
}

func (r *run) add(a ActionResult) { r.res.Actions = append(r.res.Actions, a) }

// Cluster is the task's cluster in its account and region: with Scope, what
// the state table locks and counts fixes for.
func Cluster(t *event.Task) state.Cluster {
	return state.Cluster{Account: t.Account, Region: t.Region, Name: t.ClusterName()}
}

// Scope names what the state table locks and counts fixes for in the task's
// Cluster: the task's service, else its ECS group, else the task itself. The
// diagnose function reads the same record to escalate a cause that came back.
func Scope(t *event.Task) string {
	switch {
	case t.Service != "":
		return t.Service
	case t.Group != "":
		return t.Group
	}
	return "task:" + t.TaskID()
}

// lock takes the service's lock. When another remediation holds it, the
// outcome is "busy" and unlock is nil; that is an error only for a retry
// with unfinished intents, which must come back to report them. Any error of
// the table is returned, so that an unreachable table means no fix.
func (r *run) lock(ctx context.Context, retry bool) (unlock func(context.Context) error, err error) {
	unlock, err = r.Store.Lock(ctx, Cluster(r.task), Scope(r.task), rand.Text(), defaultLockTTL)
	switch {
	case errors.Is(err, state.ErrLocked) && retry:
		return nil, fmt.Errorf("service %s is locked by another remediation; retrying to report this request's changes", Scope(r.task))
	case errors.Is(err, state.ErrLocked):
		r.hold(OutcomeBusy)
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("state table unavailable, not fixing: %w", err)
	}
	return unlock, nil
}

// release frees the lock even when ctx has ended. A lock left behind would
// turn the retry of this request away as busy until it expires, so release
// tries again; an expired lock frees itself in the end.
func (r *run) release(ctx context.Context, unlock func(context.Context) error) {
	var err error
	for range 3 {
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		err = unlock(tctx)
		cancel()
		if err == nil {
			return
		}
	}
	r.Logger.Error("release remediation lock", "err", err)
}

// breaker decides from the service's recent fixes whether fixing again is
// wise; "" means go on. Only new writes are held: what an earlier try of the
// request changed is reported all the same.
func (r *run) breaker(ctx context.Context) (string, error) {
	if len(r.ops) == 0 {
		return "", nil
	}
	recent, err := r.Store.RecentFixes(ctx, Cluster(r.task), Scope(r.task))
	if err != nil {
		return "", fmt.Errorf("state table unavailable, not fixing: %w", err)
	}
	if _, again := state.VerifiedFix(recent, aws.ToString(r.rep.Cause)); again {
		return OutcomeEscalate, nil
	}
	if len(recent) >= r.MaxFixesPerDay {
		return OutcomeCircuitOpen, nil
	}
	return "", nil
}

// holdReasons explain, per outcome, why planned writes were not made.
var holdReasons = map[string]string{
	OutcomeBusy:        "another remediation of this service is in progress",
	OutcomeEscalate:    "this cause came back after a verified fix: escalated to a person instead of fixing again",
	OutcomeCircuitOpen: "the circuit breaker is open: too many fixes of this service in 24 hours",
}

// hold marks the planned writes as skipped, for the outcome's reason.
func (r *run) hold(outcome string) {
	if outcome == "" {
		return
	}
	if len(r.res.Changes) == 0 { // what an earlier try changed stays reported
		r.res.Outcome = outcome
	}
	for _, p := range r.ops {
		a := &r.res.Actions[p.line]
		a.Status, a.Reason = StatusSkipped, holdReasons[outcome]
	}
	r.Logger.Warn("remediation held", "outcome", outcome, "task", r.task.TaskArn, "cause", aws.ToString(r.rep.Cause))
}
