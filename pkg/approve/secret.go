package approve

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pullmedic/pullmedic/pkg/notify"
)

// SigningSecret reads the Slack app's signing secret from Secrets Manager
// once and keeps it for the life of the container. The secret is the value
// itself, or JSON {"signingSecret": "..."}.
type SigningSecret struct {
	Client notify.SecretsAPI
	ARN    string

	mu     sync.Mutex
	secret string
}

// Value returns the signing secret. A failed read is not cached.
func (s *SigningSecret) Value(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secret != "" {
		return s.secret, nil
	}
	out, err := s.Client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.ARN)})
	if err != nil {
		return "", fmt.Errorf("read the Slack signing secret %s: %w", s.ARN, err)
	}
	v := strings.TrimSpace(aws.ToString(out.SecretString))
	if strings.HasPrefix(v, "{") {
		var doc struct {
			SigningSecret string `json:"signingSecret"`
		}
		if err := json.Unmarshal([]byte(v), &doc); err != nil {
			return "", fmt.Errorf("slack signing secret %s: neither the secret nor JSON {\"signingSecret\": ...}: %w", s.ARN, err)
		}
		v = doc.SigningSecret
	}
	// The value is a credential: errors never quote it.
	if v == "" || strings.ContainsAny(v, " \t\r\n") {
		return "", fmt.Errorf("slack signing secret %s: the value is empty or has spaces", s.ARN)
	}
	s.secret = v
	return v, nil
}
