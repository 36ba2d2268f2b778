package triage

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/pullmedic/pullmedic/pkg/fix"
	"github.com/pullmedic/pullmedic/pkg/notify"
	"github.com/pullmedic/pullmedic/pkg/report"
	"github.com/pullmedic/pullmedic/pkg/rules"
	"github.com/pullmedic/pullmedic/pkg/state"
)

// awaitsApproval reports whether a fixable notice's plan waits for a
// person (pullmedic:auto-fix=approve) instead of going to remediate.
func awaitsApproval(n *notify.Notice) bool { return n.Report.AutoFix.Mode == rules.ModeApprove }

// askApproval stores the request remediate would get as an approval, and
// puts its buttons on the notice's Slack message. The approval is named
// after the notice, so the retry of this event finds it again, with any
// decision made on it. Without a Slack channel nobody can click: the notice
// carries the plan, and nothing is fixed.
func (h *Handler) askApproval(ctx context.Context, log *slog.Logger, raw json.RawMessage, w *state.Window, n *notify.Notice) error {
	if !slices.ContainsFunc(h.Channels, func(c notify.Channel) bool { return c.Name == notify.ChannelSlack }) {
		log.WarnContext(ctx, "approve mode without a Slack channel: the plan is notified, nothing is fixed")
		return nil
	}
	payload, err := json.Marshal(remediateRequest(raw, n.Report))
	if err != nil {
		return fmt.Errorf("encode remediate request: %w", err)
	}
	a := &state.Approval{ID: state.ApprovalID(w.NoticeID(string(n.Kind))), Request: string(payload), Cluster: n.Cluster, Group: n.Group, Cause: n.CauseID()}
	if err := h.table().PutApproval(ctx, a); err != nil {
		return err
	}
	n.Approval = &notify.Approval{ID: a.ID, ValidUntil: a.ValidUntil}
	log.InfoContext(ctx, "plan posted for approval", "approval", a.ID, "steps", len(n.Report.Plan), "validUntil", a.ValidUntil)
	return nil
}

// remediateRequest is what remediate gets: the event and the plan this
// diagnosis saw, which it compares with its own and never obeys.
func remediateRequest(raw json.RawMessage, rep *report.Report) fix.Request {
	return fix.Request{Event: raw, Plan: rep.Plan, Cause: aws.ToString(rep.Cause)}
}

func (t timed) PutApproval(ctx context.Context, a *state.Approval) error {
	ctx, cancel := context.WithTimeout(ctx, tableCall)
	defer cancel()
	return t.s.PutApproval(ctx, a)
}
