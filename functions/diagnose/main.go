// Command diagnose is the Lambda function EventBridge invokes with the "ECS
// Task State Change" events of stopped tasks, and the "ECS Deployment State
// Change" and "ECS Service Action" events of services. The logic is
// triage.Handler.
//
// Environment: STATE_TABLE, TOPIC_ARN and REMEDIATE_FUNCTION (required), LOG_LEVEL,
// SLACK_SECRET_ARN (optional: the secret is the webhook URL, or JSON
// {"webhookUrl": "..."}), DEDUPE_WINDOW (a Go duration, default 30m);
// hub mode (template.yaml DeploymentMode=hub): READER_ROLE (the member role
// to read through), ORGANIZATION_ID and/or MEMBER_ACCOUNTS (comma-separated)
// to serve, MEMBER_EXTERNAL_ID (optional); AWS_ENDPOINT_URL and the rest of
// the SDK's variables as usual.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	lambdasvc "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/pullmedic/pullmedic/internal/lambdamain"
	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/notify"
	"github.com/pullmedic/pullmedic/pkg/state"
	"github.com/pullmedic/pullmedic/pkg/triage"
)

func main() {
	lambdamain.Run("diagnose", func(ctx context.Context, log *slog.Logger) (any, error) {
		h, err := handler(ctx, log)
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	})
}

func handler(ctx context.Context, log *slog.Logger) (*triage.Handler, error) {
	required := map[string]string{}
	for _, name := range []string{"STATE_TABLE", "TOPIC_ARN", "REMEDIATE_FUNCTION"} {
		if required[name] = os.Getenv(name); required[name] == "" {
			return nil, fmt.Errorf("%s is not set", name)
		}
	}
	window := state.DefaultWindow
	if v := os.Getenv("DEDUPE_WINDOW"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("DEDUPE_WINDOW=%q: want a positive Go duration such as 30m", v)
		}
		window = d
	}
	cfg, err := account.LoadConfig(ctx, "")
	if err != nil {
		return nil, err
	}
	table := state.New(dynamodb.NewFromConfig(cfg), required["STATE_TABLE"])
	table.Window = window
	channels := notify.Channels{{Name: notify.ChannelSNS, Notifier: &notify.SNS{Client: sns.NewFromConfig(cfg), TopicArn: required["TOPIC_ARN"]}}}
	if arn := os.Getenv("SLACK_SECRET_ARN"); arn != "" {
		secret := &notify.WebhookSecret{Client: secretsmanager.NewFromConfig(cfg), ARN: arn}
		channels = append(channels, notify.Channel{Name: notify.ChannelSlack, Notifier: &notify.Slack{URL: secret.URL}})
	}
	hub, err := account.HubFromEnv(cfg, "READER_ROLE")
	if err != nil {
		return nil, err
	}
	h := &triage.Handler{
		// A warm function keeps the VPC's network reads for a minute: the
		// services of a VPC that breaks fail together (account.VPCCache).
		View:      &account.Members{Roles: hub.Roles, Opts: []account.Option{account.WithVPCCache(&account.VPCCache{})}},
		State:     table,
		Channels:  channels,
		Invoker:   lambdasvc.NewFromConfig(cfg),
		Remediate: required["REMEDIATE_FUNCTION"],
		Metrics:   notify.NewMetrics(os.Stdout),
		Log:       log,
	}
	// A nil *Admission in the interface would not be nil.
	if hub.Admission != nil {
		h.Admission = hub.Admission
	}
	return h, nil
}
