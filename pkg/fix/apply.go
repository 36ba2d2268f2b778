package fix

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/rules"
	"github.com/pullmedic/pullmedic/pkg/state"
)

// The write-ahead log. Before its first write, a request stores its
// intents (run#<request>): each change it is about to make, with an ID
// derived from the request and the write. After each write it stores the
// change record (change#<id>). A try that dies or fails between the two
// leaves an intent without a record; the retry of the same request finds it,
// completes the record when the write had gone through, and reports the
// change as made: never "unchanged", never a rule nobody can undo.

// runRecord is one request's intents.
type runRecord struct {
	Intents []Change `json:"intents"`
}

// request names the remediate request: the EventBridge event, which Lambda's
// retries and diagnose's repeated hand-offs carry unchanged.
func (r *run) request() string { return cmp.Or(r.task.EventID, r.task.TaskArn) }

func (r *run) loadRun(ctx context.Context) (runRecord, error) {
	var rec runRecord
	if _, err := r.Store.GetRun(ctx, r.request(), &rec); err != nil {
		return rec, fmt.Errorf("state table unavailable, not fixing: %w", err)
	}
	return rec, nil
}

// recover settles the intents of an earlier try: a change that was recorded
// is reported again; one whose write went through but was not recorded is
// recorded now; one whose write never happened is left to the fresh plan.
func (r *run) recover(ctx context.Context, prev runRecord) error {
	for _, c := range prev.Intents {
		if i := slices.IndexFunc(r.ops, func(p pending) bool { return p.id == c.ChangeID }); i >= 0 {
			r.ops[i].retried = true // still needed: apply finishes it
			continue
		}
		var done Change
		err := r.Store.GetChange(ctx, c.ChangeID, &done)
		switch {
		case err == nil:
			r.adopt(done, r.newLine(done))
			continue
		case !errors.Is(err, state.ErrChangeNotFound):
			return fmt.Errorf("read change %s of an earlier try: %w", c.ChangeID, err)
		}
		if !madeIn(r.facts, c) {
			continue // never written, and no longer needed
		}
		// Written, not recorded: the write again is a no-op that returns the
		// rule IDs the first one created.
		p := pending{op: opOf(c), id: c.ChangeID, line: r.newLine(c), retried: true}
		if err := r.applyOne(ctx, p, c); err != nil {
			return err
		}
	}
	return nil
}

// madeIn reports whether the fresh facts show the change's effect.
func madeIn(f *account.Facts, c Change) bool {
	if c.Action == rules.ActionPublicIP {
		cfg := serviceNetwork(f.Service())
		return cfg != nil && cfg.AssignPublicIp == ecstypes.AssignPublicIpEnabled
	}
	g := f.SecurityGroup(c.Target)
	if g == nil || c.After.Permission == nil {
		return false
	}
	list := g.IpPermissions
	if c.Action == rules.ActionAllowEgress {
		list = g.IpPermissionsEgress
	}
	return slices.ContainsFunc(list, func(p ec2types.IpPermission) bool { return covers(p, *c.After.Permission) })
}

// covers reports whether permission p holds the single-peer permission want.
func covers(p, want ec2types.IpPermission) bool {
	if aws.ToString(p.IpProtocol) != aws.ToString(want.IpProtocol) || aws.ToInt32(p.FromPort) != aws.ToInt32(want.FromPort) || aws.ToInt32(p.ToPort) != aws.ToInt32(want.ToPort) {
		return false
	}
	peer := op{perm: want}.peer()
	return slices.ContainsFunc(p.UserIdGroupPairs, func(g ec2types.UserIdGroupPair) bool { return aws.ToString(g.GroupId) == peer }) ||
		slices.ContainsFunc(p.PrefixListIds, func(l ec2types.PrefixListId) bool { return aws.ToString(l.PrefixListId) == peer }) ||
		slices.ContainsFunc(p.IpRanges, func(c ec2types.IpRange) bool { return aws.ToString(c.CidrIp) == peer })
}

// opOf is the write a recorded intent stands for.
func opOf(c Change) op {
	o := op{action: c.Action, rule: c.Why.Rule, target: c.Target, cluster: c.Cluster, egress: c.Action == rules.ActionAllowEgress}
	if c.After.Permission != nil {
		o.perm = *c.After.Permission
	}
	return o
}

// begin stores the intents, the earlier try's and this one's, before any write.
func (r *run) begin(ctx context.Context, prev runRecord) error {
	rec := runRecord{Intents: prev.Intents}
	for _, p := range r.ops {
		if !slices.ContainsFunc(rec.Intents, func(c Change) bool { return c.ChangeID == p.id }) {
			rec.Intents = append(rec.Intents, r.intent(p))
		}
	}
	if len(rec.Intents) == len(prev.Intents) {
		return nil
	}
	if err := r.Store.PutRun(ctx, r.request(), rec); err != nil {
		return fmt.Errorf("write the intents ahead of the changes, not fixing: %w", err)
	}
	return nil
}

// intent is the change a pending write will be, before it is made.
func (r *run) intent(p pending) Change {
	c := Change{
		ChangeID: p.id, Action: p.action, Target: p.target, Cluster: p.cluster, Who: r.Who,
		Why: Why{Rule: p.rule, Task: r.task.TaskArn, ApprovedBy: r.ApprovedBy}, When: r.now,
	}
	if p.action == rules.ActionPublicIP {
		if cfg := serviceNetwork(r.facts.Service()); cfg != nil {
			before, after, _ := withPublicIP(p.target, &ecstypes.NetworkConfiguration{AwsvpcConfiguration: cfg}, ecstypes.AssignPublicIpEnabled)
			c.Before.AwsvpcConfiguration, c.After.AwsvpcConfiguration = before, after
		}
		return c
	}
	c.After.Permission = &p.perm
	return c
}

// apply makes the pending writes and records each change. It returns the
// errors of writes that failed and of changes that could not be recorded:
// the caller's retry finishes them.
func (r *run) apply(ctx context.Context) []error {
	var errs []error
	for _, p := range r.ops {
		if err := r.applyOne(ctx, p, r.intent(p)); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// applyOne makes one write and records it. A write that finds the account
// already so is "already present", unless an earlier try of this request
// intended it: then it is that try's change, and is recorded as such.
func (r *run) applyOne(ctx context.Context, p pending, c Change) error {
	err := r.write(ctx, p.op, &c)
	already := errors.Is(err, ErrAlreadyInState)
	switch {
	case already && !p.retried:
		r.setLine(p.line, StatusAlreadyPresent, "", "")
		return nil
	case err != nil && !already:
		r.setLine(p.line, StatusFailed, err.Error(), "")
		r.Logger.Error("fix failed", "action", p.action, "target", p.target, "err", err)
		return fmt.Errorf("%s on %s: %w", p.action, p.target, err)
	}
	r.adopt(c, p.line)
	r.Logger.Info("fix applied", "changeId", c.ChangeID, "action", c.Action, "target", c.Target, "rule", c.Why.Rule, "task", c.Why.Task, "retried", p.retried)
	if r.Store == nil {
		return nil
	}
	if err := r.Store.PutChange(ctx, c.ChangeID, c); err != nil {
		r.Logger.Error("change applied but not recorded", "changeId", c.ChangeID, "err", err)
		return fmt.Errorf("change %s applied but not recorded (its intent is; a retry records it): %w", c.ChangeID, err)
	}
	return nil
}

// newLine adds a result line for a change of an earlier try.
func (r *run) newLine(c Change) int {
	r.add(ActionResult{Action: c.Action, Target: c.Target, Peer: opOf(c).peer(), Status: StatusPlanned})
	return len(r.res.Actions) - 1
}

// adopt reports a change as made, on its result line.
func (r *run) adopt(c Change, line int) {
	r.setLine(line, StatusApplied, "", c.ChangeID)
	r.res.Changes = append(r.res.Changes, c)
	r.res.Outcome = OutcomeChanged
}

func (r *run) setLine(line int, st Status, reason, changeID string) {
	a := &r.res.Actions[line]
	a.Status, a.Reason, a.ChangeID = st, reason, changeID
}

// write makes one write and fills in what it did. The rule IDs and
// configurations it returns with ErrAlreadyInState are those already there.
func (r *run) write(ctx context.Context, o op, c *Change) error {
	var err error
	switch {
	case o.action == rules.ActionPublicIP:
		var before, after *ecstypes.AwsVpcConfiguration
		before, after, err = r.Writer.SetServicePublicIP(ctx, o.cluster, o.target, ecstypes.AssignPublicIpEnabled)
		if err == nil { // else keep the intent's: the earlier try saw the service before
			c.Before.AwsvpcConfiguration, c.After.AwsvpcConfiguration = before, after
		}
	case o.egress:
		c.SecurityGroupRuleIDs, err = r.Writer.AuthorizeEgress(ctx, o.target, o.perm)
	default:
		c.SecurityGroupRuleIDs, err = r.Writer.AuthorizeIngress(ctx, o.target, o.perm)
	}
	return err
}

// verify diagnoses again and checks that the rule each change fixes passes
// now. A change that did not help is reported, not rolled back.
func (r *run) verify(ctx context.Context) {
	if err := r.diagnose(ctx); err != nil {
		r.Logger.Error("verify: diagnosis failed", "err", err)
		for i := range r.res.Actions {
			if a := &r.res.Actions[i]; a.Status == StatusApplied {
				a.Reason = "could not verify: " + err.Error()
			}
		}
		return
	}
	after := summarize(r.rep)
	r.res.After = &after
	rulesOf := map[string]string{} // change ID → rule
	for _, c := range r.res.Changes {
		rulesOf[c.ChangeID] = c.Why.Rule
	}
	for i := range r.res.Actions {
		a := &r.res.Actions[i]
		if a.Status != StatusApplied {
			continue
		}
		f, ok := r.rep.Finding(rulesOf[a.ChangeID])
		if ok && f.Status == rules.Pass {
			a.Status = StatusVerified
			continue
		}
		a.Status = StatusNotVerified
		a.Reason = fmt.Sprintf("rule %s is %s after the change: %s", rulesOf[a.ChangeID], f.Status, f.Message)
		r.Logger.Warn("fix not verified", "changeId", a.ChangeID, "rule", rulesOf[a.ChangeID], "status", f.Status)
	}
}

// recordFix feeds the circuit breaker.
func (r *run) recordFix(ctx context.Context) error {
	if r.Store == nil {
		return nil
	}
	f := state.Fix{At: r.now, Cause: aws.ToString(r.res.Before.Cause), Verified: true}
	for _, a := range r.res.Actions {
		if a.ChangeID != "" {
			f.Changes = append(f.Changes, a.ChangeID)
			f.Verified = f.Verified && a.Status == StatusVerified
		}
	}
	if err := r.Store.RecordFix(ctx, Cluster(r.task), Scope(r.task), f); err != nil {
		return fmt.Errorf("record the fix for the circuit breaker: %w", err)
	}
	return nil
}
