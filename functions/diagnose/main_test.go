package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pullmedic/pullmedic/pkg/notify"
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
		name      string
		env       map[string]string
		window    time.Duration
		notifiers int
		err       string
	}{
		{"defaults: SNS only, 30 minutes", full, 30 * time.Minute, 1, ""},
		{"with Slack", with("SLACK_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:111122223333:secret:slack"), 30 * time.Minute, 2, ""},
		{"a window", with("DEDUPE_WINDOW", "1h"), time.Hour, 1, ""},
		{"no table", with("STATE_TABLE", ""), 0, 0, "STATE_TABLE"},
		{"no topic", with("TOPIC_ARN", ""), 0, 0, "TOPIC_ARN"},
		{"no remediate function", with("REMEDIATE_FUNCTION", ""), 0, 0, "REMEDIATE_FUNCTION"},
		{"window not a duration", with("DEDUPE_WINDOW", "30"), 0, 0, "DEDUPE_WINDOW"},
		{"window negative", with("DEDUPE_WINDOW", "-5m"), 0, 0, "DEDUPE_WINDOW"},
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
			if n := len(h.Notifier.(notify.All)); n != tc.notifiers || h.Remediate != "pullmedic-remediate" || h.View == nil || h.Invoker == nil {
				t.Errorf("handler %+v with %d notifiers; want %d", h, n, tc.notifiers)
			}
		})
	}
}
