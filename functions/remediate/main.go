// Command remediate is the Lambda function that diagnose invokes
// asynchronously when a cluster opts into auto-fix. The logic is remediate.Handler.
//
// Environment: STATE_TABLE (required: without the table nothing is fixed),
// TOPIC_ARN (where results go), MAX_FIXES_PER_DAY (circuit breaker, default 3), LOG_LEVEL;
// hub mode: READER_ROLE and FIXER_ROLE (the member roles to read and fix
// through), ORGANIZATION_ID and/or MEMBER_ACCOUNTS, MEMBER_EXTERNAL_ID;
// SLACK_RESPONSE_URL_PREFIX (where an approved fix's outcome may be posted;
// default https://hooks.slack.com/); AWS_ENDPOINT_URL and the rest of the
// SDK's variables as usual.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/pullmedic/pullmedic/internal/lambdamain"
	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
	"github.com/pullmedic/pullmedic/pkg/fix"
	"github.com/pullmedic/pullmedic/pkg/notify"
	"github.com/pullmedic/pullmedic/pkg/remediate"
	"github.com/pullmedic/pullmedic/pkg/state"
)

func main() {
	lambdamain.Run("remediate", func(ctx context.Context, log *slog.Logger) (any, error) {
		h, err := handler(ctx, log)
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	})
}

func handler(ctx context.Context, log *slog.Logger) (*remediate.Handler, error) {
	table := os.Getenv("STATE_TABLE")
	if table == "" {
		return nil, fmt.Errorf("STATE_TABLE is not set")
	}
	maxFixes := fix.DefaultMaxFixesPerDay
	if v := os.Getenv("MAX_FIXES_PER_DAY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("MAX_FIXES_PER_DAY=%q: want a whole number of at least 1", v)
		}
		maxFixes = n
	}
	cfg, err := account.LoadConfig(ctx, "")
	if err != nil {
		return nil, err
	}
	hub, err := account.HubFromEnv(cfg, "READER_ROLE")
	if err != nil {
		return nil, err
	}
	// Writes go through the fixer role in hub mode, else the function's own
	// role; either way in the event's region.
	fixer := account.NewRoles(cfg, os.Getenv("FIXER_ROLE"), os.Getenv("MEMBER_EXTERNAL_ID"))
	if hub.Roles.Assumes() != fixer.Assumes() {
		return nil, fmt.Errorf("READER_ROLE=%q and FIXER_ROLE=%q: set both (hub mode) or neither", os.Getenv("READER_ROLE"), os.Getenv("FIXER_ROLE"))
	}
	h := &remediate.Handler{
		View: &account.Members{Roles: hub.Roles},
		WriterFor: func(ctx context.Context, t *event.Task) (fix.Writer, error) {
			cfg, err := fixer.Config(ctx, t.Account, t.Region)
			if err != nil {
				return nil, err
			}
			return fix.NewLiveWriter(cfg), nil
		},
		Store:          state.NewLedger(dynamodb.NewFromConfig(cfg), table),
		Table:          table,
		Publisher:      sns.NewFromConfig(cfg),
		TopicARN:       os.Getenv("TOPIC_ARN"),
		MaxFixesPerDay: maxFixes,
		Metrics:        notify.NewMetrics(os.Stdout),
		Logger:         log,
		// Tests point it at a local server; Slack's own otherwise.
		ResponseURLPrefix: os.Getenv("SLACK_RESPONSE_URL_PREFIX"),
	}
	// A nil *Admission in the interface would not be nil.
	if hub.Admission != nil {
		h.Admission = hub.Admission
	}
	return h, nil
}
