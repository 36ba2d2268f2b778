package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestHandlerConfiguration(t *testing.T) {
	cases := []struct {
		name, table, maxFixes string
		want                  int
		err                   string
	}{
		{"defaults", "pullmedic-state", "", 3, ""},
		{"configured limit", "pullmedic-state", "5", 5, ""},
		{"no table: never fix without a lock", "", "", 0, "STATE_TABLE"},
		{"limit not a number", "pullmedic-state", "three", 0, "MAX_FIXES_PER_DAY"},
		{"limit zero", "pullmedic-state", "0", 0, "MAX_FIXES_PER_DAY"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("STATE_TABLE", tc.table)
			t.Setenv("MAX_FIXES_PER_DAY", tc.maxFixes)
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
			if h.MaxFixesPerDay != tc.want || h.Store == nil || h.Metrics == nil || h.View == nil || h.WriterFor == nil || h.Admission != nil {
				t.Errorf("handler %+v", h)
			}
		})
	}
}
