package account_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"

	"github.com/pullmedic/pullmedic/internal/motoserver"
	"github.com/pullmedic/pullmedic/pkg/account"
)

func TestLoadConfig(t *testing.T) {
	ep := motoserver.Endpoint(t)
	for _, tt := range []struct {
		name, maxAttempts string
		want              int
	}{
		{"default attempts", "", 5},
		{"AWS_MAX_ATTEMPTS wins", "2", 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			none := filepath.Join(t.TempDir(), "none")
			for k, v := range map[string]string{
				"AWS_ENDPOINT_URL": ep, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
				"AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none, "AWS_PROFILE": "", "AWS_REGION": "",
				"AWS_MAX_ATTEMPTS": tt.maxAttempts,
			} {
				t.Setenv(k, v)
			}
			cfg, err := account.LoadConfig(context.Background(), taskRegion)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Region != taskRegion || aws.ToString(cfg.BaseEndpoint) != ep {
				t.Errorf("region %q endpoint %q, want %q %q", cfg.Region, aws.ToString(cfg.BaseEndpoint), taskRegion, ep)
			}
			client := ecs.NewFromConfig(cfg)
			r := client.Options().Retryer
			if got := r.MaxAttempts(); got != tt.want {
				t.Errorf("client MaxAttempts = %d, want %d", got, tt.want)
			}
			for code, retry := range map[string]bool{"ThrottlingException": true, "RequestLimitExceeded": true, "AccessDeniedException": false} {
				if got := r.IsErrorRetryable(&smithy.GenericAPIError{Code: code}); got != retry {
					t.Errorf("retry %s = %v, want %v", code, got, retry)
				}
			}
			if _, err := client.ListClusters(context.Background(), &ecs.ListClustersInput{}); err != nil {
				t.Errorf("call through AWS_ENDPOINT_URL: %v", err)
			}
		})
	}
}
