package fix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/pullmedic/pullmedic/pkg/account"
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
	Logger         *slog.Logger
	Now            func() time.Time
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
	if req.Cause != "" && req.Cause != aws.ToString(res.Before.Cause) {
		log.Warn("cause differs from the request", "requested", req.Cause, "fresh", aws.ToString(res.Before.Cause), "task", task.TaskArn)
	}
	log.Info("remediation result", "result", res)
	return res, errors.Join(err, h.publish(ctx, res))
}

func (h *Handler) publish(ctx context.Context, res *Result) error {
	if h.Publisher == nil || h.TopicARN == "" {
		return nil
	}
	body, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	_, err = h.Publisher.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(h.TopicARN),
		Message:  aws.String(string(body)),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"schema":  {DataType: aws.String("String"), StringValue: aws.String(SchemaV1)},
			"outcome": {DataType: aws.String("String"), StringValue: aws.String(res.Outcome)},
		},
	})
	if err != nil {
		return fmt.Errorf("publish result: %w", err)
	}
	return nil
}
