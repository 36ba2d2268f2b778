package account

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
)

// maxAttempts is how often a call is tried unless AWS_MAX_ATTEMPTS (or
// max_attempts in the profile) says otherwise.
const maxAttempts = 5

// AttemptTimeout bounds one HTTP attempt of any AWS call (state table, SNS,
// reads, writes): a hung endpoint costs one attempt, then the retryer moves
// on, and the caller's deadline bounds the whole call.
const AttemptTimeout = 4 * time.Second

// LoadConfig loads the SDK config the usual way (environment, profile, SSO,
// AWS_ENDPOINT_URL) with the adaptive retryer: the standard one (backoff with
// jitter, throttling retried) plus client-side rate limiting, which slows the
// sending rate once AWS throttles, so a busy organization's diagnoses queue
// behind EC2's per-account, per-region Describe* bucket instead of failing.
// https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
// The limiter lives in the retryer: Roles.Config shares one per account and
// region, the scope of AWS's buckets. An empty region leaves it to the environment.
func LoadConfig(ctx context.Context, region string) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	// Set after loading: a retryer passed to LoadDefaultConfig makes it skip
	// reading max attempts from the environment and profile.
	cfg.HTTPClient = awshttp.NewBuildableClient().WithTimeout(AttemptTimeout)
	attempts := cmp.Or(cfg.RetryMaxAttempts, maxAttempts)
	cfg.Retryer = func() aws.Retryer {
		return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
			o.StandardOptions = append(o.StandardOptions, func(o *retry.StandardOptions) { o.MaxAttempts = attempts })
		})
	}
	return cfg, nil
}
