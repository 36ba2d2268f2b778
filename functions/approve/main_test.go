package main

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

func TestHandlerConfiguration(t *testing.T) {
	const secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:pullmedic/slack-signing-AbCdEf"
	cases := []struct {
		name, table, remediate, secret, approvers string
		want                                      []string
		err                                       string
	}{
		{"approvers, spaces forgiven", "pullmedic-state", "pullmedic-remediate", secret, " U0A, W0B ,,", []string{"U0A", "W0B"}, ""},
		{"no approvers: every click refused", "pullmedic-state", "pullmedic-remediate", secret, "", nil, ""},
		{"no table", "", "pullmedic-remediate", secret, "U0A", nil, "STATE_TABLE"},
		{"no remediate function", "pullmedic-state", "", secret, "U0A", nil, "REMEDIATE_FUNCTION"},
		{"no signing secret: no click can be verified", "pullmedic-state", "pullmedic-remediate", "", "U0A", nil, "SLACK_SIGNING_SECRET_ARN"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("STATE_TABLE", tc.table)
			t.Setenv("REMEDIATE_FUNCTION", tc.remediate)
			t.Setenv("SLACK_SIGNING_SECRET_ARN", tc.secret)
			t.Setenv("SLACK_APPROVERS", tc.approvers)
			t.Setenv("AWS_REGION", "eu-west-1")
			h, err := handler(context.Background(), slog.Default())
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one naming %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(h.Approvers, tc.want) || h.Remediate != tc.remediate || h.Secret == nil || h.Approvals == nil || h.Invoker == nil || h.Slack == nil {
				t.Errorf("handler %+v, want approvers %v", h, tc.want)
			}
		})
	}
}
