// Package remediate is the remediate function's flow: decode the request,
// remediate on fresh state within a time budget, publish the result, count.
// Everything it decides is pkg/fix's; this package only wires and reports.
package remediate

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/slack-go/slack"

	"github.com/pullmedic/pullmedic/internal/lambdamain"
	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
	"github.com/pullmedic/pullmedic/pkg/fix"
	"github.com/pullmedic/pullmedic/pkg/notify"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

// Publisher is the SNS call the remediate function makes.
type Publisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Handler is the remediate function's logic: decode, remediate, log, publish.
type Handler struct {
	View   account.View
	Writer fix.Writer
	// WriterFor, when set, returns the writer for the task's account and
	// region instead of Writer: a hub writes through the member's fixer role.
	WriterFor func(ctx context.Context, t *event.Task) (fix.Writer, error)
	// Admission, in hub mode, refuses requests for accounts the hub does not
	// serve (diagnose checked too; a direct invoke skips diagnose).
	Admission      account.Admitter
	Store          fix.Store
	Publisher      Publisher
	TopicARN       string
	MaxFixesPerDay int
	// Table is the state table's name, for the undo commands in the email.
	Table string
	// Metrics receives FixesApplied and FixesRefused; nil means no metrics.
	Metrics *notify.Metrics
	Logger  *slog.Logger
	Now     func() time.Time
	// Slack posts the outcome of a fix approved in Slack to the message it
	// was approved in (the request's responseUrl); nil means a notify.Slack
	// with its defaults.
	Slack Replier
	// ResponseURLPrefix is what a request's responseUrl must start with to
	// be posted to (notify.SlackResponseURLPrefix when empty): whoever may
	// invoke the function cannot make it send its results elsewhere.
	ResponseURLPrefix string
}

// Replier posts a message to a Slack response_url; *notify.Slack implements it.
type Replier interface {
	Post(ctx context.Context, url string, msg *slack.WebhookMessage) error
}

// budgetMargin is kept back from the Lambda deadline: time to release the
// lock, log, and return an error that Lambda retries.
const budgetMargin = 10 * time.Second

// Handle serves one invocation. An error makes Lambda retry the async
// invocation, and in the end hand it to the failure queue: a malformed
// request, a failed read or write, a change not recorded, a result not
// published. A retry finishes the work and reports what the earlier try
// changed (see fix.Remediate), so the result is published only when the work
// is done, once. A request that live state refuses is published and counted.
func (h *Handler) Handle(ctx context.Context, payload json.RawMessage) (*fix.Result, error) {
	log := h.Logger
	if log == nil {
		log = slog.Default()
	}
	req, task, err := fix.DecodeRequest(payload)
	if err != nil {
		log.Error("bad remediate request", "err", err)
		return nil, err
	}
	who := "lambda"
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.InvokedFunctionArn != "" {
		who = lc.InvokedFunctionArn
	}
	ctx, cancel := lambdamain.Budget(ctx, budgetMargin)
	defer cancel()
	if h.Admission != nil {
		if err := h.Admission.Admit(ctx, task.Account); err != nil {
			if errors.Is(err, account.ErrNotMember) {
				log.Warn("request refused: account not served by this hub", "account", task.Account, "err", err)
				if h.Metrics != nil {
					h.Metrics.Count(notify.EventsRefused, 1)
				}
				return nil, nil
			}
			return nil, fmt.Errorf("check account %s: %w", task.Account, err)
		}
	}
	writer := h.Writer
	if h.WriterFor != nil {
		if writer, err = h.WriterFor(ctx, task); err != nil {
			log.Error("cannot write to the account; Lambda retries it", "account", task.Account, "region", task.Region, "err", err)
			return nil, err
		}
	}
	res, err := fix.Remediate(ctx, fix.Options{
		View: h.View, Writer: writer, Store: h.Store, DryRun: req.Mode != "",
		Who: who, ApprovedBy: req.ApprovedBy, Now: h.Now, MaxFixesPerDay: h.MaxFixesPerDay, Requested: req.Plan, Logger: log,
	}, task)
	if res != nil {
		h.count(res)
	}
	if err != nil {
		log.Error("remediation failed; Lambda retries it", "task", task.TaskArn, "err", err)
		h.reply(ctx, log, req, notify.RemediationFailedReply(notify.ApprovalSubject{Cluster: task.ClusterName(), Group: task.Group}, req.ApprovedBy, err))
		return nil, err
	}
	if req.Cause != "" && req.Cause != aws.ToString(res.Before.Cause) {
		log.Warn("cause differs from the request", "requested", req.Cause, "fresh", aws.ToString(res.Before.Cause), "task", task.TaskArn)
	}
	log.Info("remediation result", "result", res)
	// Before publishing: when the publish fails, the retry answers the same
	// message again, which replaces it with the same outcome.
	h.reply(ctx, log, req, notify.RemediationReply(res, req.ApprovedBy, h.undo(task)))
	return res, h.publish(ctx, task, res)
}

// undo returns the command that reverts one of the task's changes, "" when
// there is no table to read its record from.
func (h *Handler) undo(task *event.Task) func(changeID string) string {
	return func(id string) string {
		if h.Table == "" {
			return ""
		}
		undo := "pullmedic undo --change " + id + " --table " + h.Table + " --region " + task.Region
		if h.WriterFor != nil {
			// The person runs it with credentials for the member account.
			undo += "   # in account " + task.Account
		}
		return undo
	}
}

// reply replaces the Slack message a fix was approved in with what became
// of it, when the request came from a click (approve mode). A reply that
// fails is logged, not retried: the fix is done, and the topic has the result.
func (h *Handler) reply(ctx context.Context, log *slog.Logger, req *fix.Request, msg *slack.WebhookMessage) {
	if req.ResponseURL == "" {
		return
	}
	if prefix := cmp.Or(h.ResponseURLPrefix, notify.SlackResponseURLPrefix); !strings.HasPrefix(req.ResponseURL, prefix) {
		log.Warn("outcome not posted: the responseUrl is not Slack's", "responseUrl", req.ResponseURL, "prefix", prefix)
		return
	}
	poster := h.Slack
	if poster == nil {
		poster = &notify.Slack{}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), replyTime)
	defer cancel()
	if err := poster.Post(ctx, req.ResponseURL, msg); err != nil {
		log.Error("cannot post the outcome to Slack", "approvedBy", req.ApprovedBy, "err", err)
	}
}

// replyTime bounds the reply to Slack: it runs in the budget's margin too,
// since a failure is worth telling the person who clicked.
const replyTime = 5 * time.Second

// count emits the metrics of a result: changes made, and requests or steps
// refused by grounding or the guard rails.
func (h *Handler) count(res *fix.Result) {
	if h.Metrics == nil {
		return
	}
	refused := 0
	if res.Outcome == fix.OutcomeRefused {
		refused++
	}
	for _, a := range res.Actions {
		if a.Status == fix.StatusRefused {
			refused++
		}
	}
	h.Metrics.Count(notify.FixesApplied, len(res.Changes))
	if refused > 0 {
		h.Metrics.Count(notify.FixesRefused, refused)
	}
}

// publish sends the result to the findings topic the way diagnose sends a
// report: JSON for machines, text with the undo commands for email, and the
// same filter attributes (kind "remediation" tells it apart), so whoever
// follows a cluster also sees its fixes, escalations and failed verifications.
func (h *Handler) publish(ctx context.Context, task *event.Task, res *fix.Result) error {
	if h.Publisher == nil || h.TopicARN == "" {
		return nil
	}
	// The result carries the task's stop reason, which can outweigh what SNS
	// takes; the rest of a result is a few kilobytes.
	clipped := *res
	clipped.Task.StoppedReason = notify.Clip(res.Task.StoppedReason, notify.ReasonMax)
	res = &clipped
	body, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	var text strings.Builder
	// A strings.Builder does not fail.
	_ = res.WriteText(&text, "", h.undo(task))
	cause, severity := cmp.Or(aws.ToString(res.Before.Cause), "none"), string(rules.Info)
	if r, ok := rules.ByID(cause); ok {
		severity = string(r.Severity)
	}
	cluster, scope := task.ClusterName(), fix.Scope(task)
	attrs := map[string]string{
		"kind": "remediation", "schema": fix.SchemaV1, "outcome": res.Outcome,
		"cluster": cluster, "service": scope, "cause": cause, "severity": severity, "autoFix": res.Mode,
	}
	// As on diagnose's notices: a hub's subscribers filter by account and
	// region; SNS refuses an empty value.
	for k, v := range map[string]string{"account": task.Account, "region": task.Region} {
		if v != "" {
			attrs[k] = v
		}
	}
	in, err := notify.Message(h.TopicARN, fmt.Sprintf("[pullmedic] %s/%s: remediation %s (%s)", cluster, scope, res.Outcome, cause),
		body, text.String(), attrs)
	if err == nil {
		_, err = h.Publisher.Publish(ctx, in)
	}
	if err != nil {
		return fmt.Errorf("publish result: %w", err)
	}
	return nil
}
