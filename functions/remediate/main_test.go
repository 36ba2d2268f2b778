package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/pullmedic/pullmedic/internal/viewtest"
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

// Remediate judges what it is about to change: its View reads the VPC's
// network afresh for every task, never from the diagnose function's cache.
func TestViewReadsFresh(t *testing.T) {
	vpc := viewtest.NewVPC(t)
	t.Setenv("STATE_TABLE", "pullmedic-state")
	h, err := handler(context.Background(), slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	if got := vpc.RouteTableReads(t, h.View); got != 2 {
		t.Errorf("two tasks of one VPC read its route tables %d times, want 2 (no cache)", got)
	}
}
