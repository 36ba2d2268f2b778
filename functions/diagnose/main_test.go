package main

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pullmedic/pullmedic/internal/viewtest"
	"github.com/pullmedic/pullmedic/pkg/state"
)

func TestHandlerConfiguration(t *testing.T) {
	full := map[string]string{
		"STATE_TABLE": "pullmedic-state", "TOPIC_ARN": "arn:aws:sns:eu-west-1:111122223333:pullmedic",
		"REMEDIATE_FUNCTION": "pullmedic-remediate", "SLACK_SECRET_ARN": "", "DEDUPE_WINDOW": "",
	}
	with := func(k, v string) map[string]string {
		env := map[string]string{}
		for key, val := range full {
			env[key] = val
		}
		env[k] = v
		return env
	}
	cases := []struct {
		name     string
		env      map[string]string
		window   time.Duration
		channels []string
		err      string
	}{
		{"defaults: SNS only, 30 minutes", full, 30 * time.Minute, []string{"sns"}, ""},
		{"with Slack", with("SLACK_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:111122223333:secret:slack"), 30 * time.Minute, []string{"sns", "slack"}, ""},
		{"a window", with("DEDUPE_WINDOW", "1h"), time.Hour, []string{"sns"}, ""},
		{"no table", with("STATE_TABLE", ""), 0, nil, "STATE_TABLE"},
		{"no topic", with("TOPIC_ARN", ""), 0, nil, "TOPIC_ARN"},
		{"no remediate function", with("REMEDIATE_FUNCTION", ""), 0, nil, "REMEDIATE_FUNCTION"},
		{"window not a duration", with("DEDUPE_WINDOW", "30"), 0, nil, "DEDUPE_WINDOW"},
		{"window negative", with("DEDUPE_WINDOW", "-5m"), 0, nil, "DEDUPE_WINDOW"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
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
			table, ok := h.State.(*state.Table)
			if !ok || table.Name != "pullmedic-state" || table.Window != tc.window {
				t.Errorf("state table %+v; want pullmedic-state with window %s", h.State, tc.window)
			}
			var names []string
			for _, c := range h.Channels {
				names = append(names, c.Name)
			}
			if !slices.Equal(names, tc.channels) || h.Remediate != "pullmedic-remediate" || h.View == nil || h.Invoker == nil {
				t.Errorf("handler %+v with channels %v; want %v", h, names, tc.channels)
			}
		})
	}
}

// A warm diagnose function keeps the VPC's network reads for the next task of
// the same VPC (account.VPCCache); TestViewReadsFresh in functions/remediate
// shows that remediate does not.
func TestViewKeepsVPCReads(t *testing.T) {
	vpc := viewtest.NewVPC(t)
	for k, v := range map[string]string{"STATE_TABLE": "pullmedic-state", "TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:t", "REMEDIATE_FUNCTION": "r"} {
		t.Setenv(k, v)
	}
	h, err := handler(context.Background(), slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	if got := vpc.RouteTableReads(t, h.View); got != 1 {
		t.Errorf("two tasks of one VPC read its route tables %d times, want 1 (cached)", got)
	}
}
