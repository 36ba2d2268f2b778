// Command approve is the Lambda function behind the Function URL that is the
// Slack app's interactivity Request URL: a click on "Apply fix" or "Dismiss"
// under a plan posted for a cluster tagged pullmedic:auto-fix=approve. The
// logic is approve.Handler.
//
// Environment: STATE_TABLE, REMEDIATE_FUNCTION and SLACK_SIGNING_SECRET_ARN
// (required: the secret is the signing secret, or JSON {"signingSecret": "..."}),
// SLACK_APPROVERS (the Slack user IDs who may decide, comma-separated; nobody
// when empty), SLACK_RESPONSE_URL_PREFIX (where response_urls must point,
// default https://hooks.slack.com/), LOG_LEVEL; AWS_ENDPOINT_URL and the rest
// of the SDK's variables as usual.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	lambdasvc "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pullmedic/pullmedic/internal/lambdamain"
	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/approve"
	"github.com/pullmedic/pullmedic/pkg/notify"
	"github.com/pullmedic/pullmedic/pkg/state"
)

func main() {
	lambdamain.Run("approve", func(ctx context.Context, log *slog.Logger) (any, error) {
		h, err := handler(ctx, log)
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	})
}

func handler(ctx context.Context, log *slog.Logger) (*approve.Handler, error) {
	required := map[string]string{}
	for _, name := range []string{"STATE_TABLE", "REMEDIATE_FUNCTION", "SLACK_SIGNING_SECRET_ARN"} {
		if required[name] = os.Getenv(name); required[name] == "" {
			return nil, fmt.Errorf("%s is not set", name)
		}
	}
	var approvers []string
	for _, id := range strings.Split(os.Getenv("SLACK_APPROVERS"), ",") {
		if id = strings.TrimSpace(id); id != "" {
			approvers = append(approvers, id)
		}
	}
	if len(approvers) == 0 {
		log.Warn("SLACK_APPROVERS is empty: every click is refused")
	}
	cfg, err := account.LoadConfig(ctx, "")
	if err != nil {
		return nil, err
	}
	secret := &approve.SigningSecret{Client: secretsmanager.NewFromConfig(cfg), ARN: required["SLACK_SIGNING_SECRET_ARN"]}
	return &approve.Handler{
		Secret:    secret.Value,
		Approvals: state.NewApprovals(dynamodb.NewFromConfig(cfg), required["STATE_TABLE"]),
		Invoker:   lambdasvc.NewFromConfig(cfg),
		Remediate: required["REMEDIATE_FUNCTION"],
		Approvers: approvers,
		// Within Slack's three seconds: two tries of a second each.
		Slack:             &notify.Slack{Attempts: 2, Timeout: time.Second, Backoff: 100 * time.Millisecond},
		ResponseURLPrefix: os.Getenv("SLACK_RESPONSE_URL_PREFIX"),
		Log:               log,
	}, nil
}
