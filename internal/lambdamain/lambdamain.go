// Package lambdamain is the start-up both Lambda functions share: a JSON
// slog logger at LOG_LEVEL, configuration from the environment, lambda.Start.
package lambdamain

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

// Logger logs JSON to stdout (CloudWatch) at LOG_LEVEL: debug, info (default), warn or error.
func Logger() *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(os.Getenv("LOG_LEVEL"))); err != nil {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level}))
}

// Run builds the handler once per container and serves invocations with it.
// A configuration error is logged and ends the container: retrying cannot help.
func Run(name string, build func(context.Context, *slog.Logger) (handler any, err error)) {
	log := Logger()
	slog.SetDefault(log)
	h, err := build(context.Background(), log)
	if err != nil {
		log.Error(name+": bad configuration", "err", err)
		os.Exit(1)
	}
	lambda.Start(h)
}

// Budget is the share of an invocation's time the work may use: it ends
// margin before the Lambda deadline, so that the function still has time to
// log, release its lock and return an error that Lambda retries, instead of
// being cut off mid-write. Without a deadline (tests, the CLI) it is ctx.
func Budget(ctx context.Context, margin time.Duration) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, deadline.Add(-margin))
}
