package fix

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

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
	"github.com/pullmedic/pullmedic/pkg/notify"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

// Publisher is the SNS call the remediate function makes.
type Publisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Handler is the remediate function's logic: decode, remediate, log, publish.
type Handler struct {
	View           account.View
	Writer         Writer
	Store          Store
	Publisher      Publisher
	TopicARN       string
	MaxFixesPerDay int
	// Table is the state table's name, for the undo commands in the email.
	Table string
	// Metrics receives FixesApplied; nil means no metrics.
	Metrics *notify.Metrics
	Logger  *slog.Logger
	Now     func() time.Time
}

// Handle serves one invocation. Its error makes Lambda retry the async
// invocation, so a result that could not be published is an error too.
func (h *Handler) Handle(ctx context.Context, payload json.RawMessage) (*Result, error) {
	log := h.Logger
	if log == nil {
		log = slog.Default()
	}
	req, task, err := DecodeRequest(payload)
	if err != nil {
		log.Error("bad remediate request", "err", err)
		return nil, err
	}
	who := "lambda"
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.InvokedFunctionArn != "" {
		who = lc.InvokedFunctionArn
	}
	res, err := Remediate(ctx, Options{
		View: h.View, Writer: h.Writer, Store: h.Store, DryRun: req.Mode != "",
		Who: who, Now: h.Now, MaxFixesPerDay: h.MaxFixesPerDay, Requested: req.Plan, Logger: log,
	}, task)
	if res == nil {
		log.Error("remediation failed", "task", task.TaskArn, "err", err)
		return nil, err
	}
	if h.Metrics != nil {
		h.Metrics.Count(notify.FixesApplied, len(res.Changes))
	}
	if req.Cause != "" && req.Cause != aws.ToString(res.Before.Cause) {
		log.Warn("cause differs from the request", "requested", req.Cause, "fresh", aws.ToString(res.Before.Cause), "task", task.TaskArn)
	}
	log.Info("remediation result", "result", res)
	return res, errors.Join(err, h.publish(ctx, task, res))
}

// publish sends the result to the findings topic the way diagnose sends a
// report: JSON for machines, text with the undo commands for email, and the
// same filter attributes (kind "remediation" tells it apart), so whoever
// follows a cluster also sees its fixes, escalations and failed verifications.
func (h *Handler) publish(ctx context.Context, task *event.Task, res *Result) error {
	if h.Publisher == nil || h.TopicARN == "" {
		return nil
	}
	body, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	var text strings.Builder
	// A strings.Builder does not fail.
	_ = res.WriteText(&text, "", func(id string) string {
		if h.Table == "" {
			return ""
		}
		return "pullmedic undo --change " + id + " --table " + h.Table + " --region " + task.Region
	})
	cause, severity := cmp.Or(aws.ToString(res.Before.Cause), "none"), string(rules.Info)
	if r, ok := rules.ByID(cause); ok {
		severity = string(r.Severity)
	}
	cluster, scope := task.ClusterName(), Scope(task)
	in, err := notify.Message(h.TopicARN, fmt.Sprintf("[pullmedic] %s/%s: remediation %s (%s)", cluster, scope, res.Outcome, cause),
		body, text.String(), map[string]string{
			"kind": "remediation", "schema": SchemaV1, "outcome": res.Outcome,
			"cluster": cluster, "service": scope, "cause": cause, "severity": severity, "autoFix": res.Mode,
		})
	if err == nil {
		_, err = h.Publisher.Publish(ctx, in)
	}
	if err != nil {
		return fmt.Errorf("publish result: %w", err)
	}
	return nil
}
