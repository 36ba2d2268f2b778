package fix

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/pkg/rules"
	"github.com/pullmedic/pullmedic/pkg/state"
)

// apply makes the pending writes, records each change and returns the errors
// of changes that were made but could not be stored.
func (r *run) apply(ctx context.Context) []error {
	var errs []error
	for _, p := range r.ops {
		a := &r.res.Actions[p.line]
		c, err := r.write(ctx, p.op)
		switch {
		case errors.Is(err, ErrAlreadyInState):
			a.Status, a.Reason = StatusAlreadyPresent, ""
			continue
		case err != nil:
			a.Status, a.Reason = StatusFailed, err.Error()
			r.Logger.Error("fix failed", "action", p.action, "target", p.target, "err", err)
			continue
		}
		c.ChangeID = changeID(c)
		a.Status, a.ChangeID = StatusApplied, c.ChangeID
		r.res.Changes = append(r.res.Changes, *c)
		r.res.Outcome = OutcomeChanged
		r.Logger.Info("fix applied", "changeId", c.ChangeID, "action", c.Action, "target", c.Target, "rule", c.Why.Rule, "task", c.Why.Task)
		if r.Store != nil {
			if err := r.Store.PutChange(ctx, c.ChangeID, c); err != nil {
				r.Logger.Error("change applied but not recorded", "changeId", c.ChangeID, "err", err)
				errs = append(errs, fmt.Errorf("change %s applied but not recorded: %w", c.ChangeID, err))
			}
		}
	}
	return errs
}

// write makes one write and describes it as a Change.
func (r *run) write(ctx context.Context, o op) (*Change, error) {
	c := &Change{
		Action: o.action, Target: o.target, Cluster: o.cluster, Who: r.Who,
		Why: Why{Rule: o.rule, Task: r.task.TaskArn}, When: r.now,
	}
	var err error
	switch {
	case o.action == rules.ActionPublicIP:
		c.Before.AwsvpcConfiguration, c.After.AwsvpcConfiguration, err = r.Writer.SetServicePublicIP(ctx, o.cluster, o.target, ecstypes.AssignPublicIpEnabled)
	case o.egress:
		c.SecurityGroupRuleIDs, err = r.Writer.AuthorizeEgress(ctx, o.target, o.perm)
		c.After.Permission = &o.perm
	default:
		c.SecurityGroupRuleIDs, err = r.Writer.AuthorizeIngress(ctx, o.target, o.perm)
		c.After.Permission = &o.perm
	}
	return c, err
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
	if err := r.Store.RecordFix(ctx, r.task.ClusterName(), Scope(r.task), f); err != nil {
		return fmt.Errorf("record the fix for the circuit breaker: %w", err)
	}
	return nil
}
