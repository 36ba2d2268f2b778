// Command remediate is the Lambda function that diagnose invokes
// asynchronously when a cluster opts into auto-fix. The logic is remediate.Handler.
//
// Environment: STATE_TABLE (required: without the table nothing is fixed),
// TOPIC_ARN (where results go), MAX_FIXES_PER_DAY (circuit breaker, default 3), LOG_LEVEL;
// AWS_ENDPOINT_URL and the rest of the SDK's variables as usual.
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
	return &remediate.Handler{
		View:           account.NewLive(cfg),
		Writer:         fix.NewLiveWriter(cfg),
		Store:          state.NewLedger(dynamodb.NewFromConfig(cfg), table),
		Table:          table,
		Publisher:      sns.NewFromConfig(cfg),
		TopicARN:       os.Getenv("TOPIC_ARN"),
		MaxFixesPerDay: maxFixes,
		Metrics:        notify.NewMetrics(os.Stdout),
		Logger:         log,
	}, nil
}
