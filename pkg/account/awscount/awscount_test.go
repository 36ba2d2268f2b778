package awscount

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go/middleware"
)

func TestRounds(t *testing.T) {
	at := func(ms int) time.Time { return time.Unix(0, 0).Add(time.Duration(ms) * time.Millisecond) }
	call := func(start, end int) Call { return Call{Start: at(start), End: at(end)} }
	tests := []struct {
		name  string
		calls []Call
		want  int
	}{
		{"none", nil, 0},
		{"one", []Call{call(0, 10)}, 1},
		{"parallel", []Call{call(0, 10), call(1, 12), call(2, 9)}, 1},
		{"back to back", []Call{call(0, 10), call(10, 20), call(20, 30)}, 3},
		{"two rounds of fan-out", []Call{call(0, 10), call(0, 11), call(12, 20), call(12, 25)}, 2},
		// A long call overlapping a short chain does not hide the chain.
		{"long call beside a chain", []Call{call(0, 100), call(1, 10), call(11, 20), call(21, 30)}, 3},
		{"recorded out of order", []Call{call(20, 30), call(0, 10), call(10, 20)}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New()
			for _, c := range tt.calls {
				l.add(c)
			}
			if got := l.Rounds(); got != tt.want {
				t.Errorf("Rounds() = %d, want %d", got, tt.want)
			}
			if got := l.Calls(); got != len(tt.calls) {
				t.Errorf("Calls() = %d, want %d", got, len(tt.calls))
			}
		})
	}
}

// The middleware names each call and counts a retried call once.
func TestMiddlewareRecordsCalls(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write([]byte(`{"clusters":[],"failures":[]}`))
	}))
	defer srv.Close()

	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("k", "s", ""),
		BaseEndpoint: aws.String(srv.URL),
	}
	// Two logs attached to copies of one config that has spare capacity in
	// APIOptions: each client must report to its own log only.
	cfg.APIOptions = make([]func(*middleware.Stack) error, 0, 4)
	l, other := New(), New()
	mine := cfg.Copy()
	l.Attach(&mine)
	theirs := cfg.Copy()
	other.Attach(&theirs)
	client := ecs.NewFromConfig(mine)
	for range 2 {
		if _, err := client.DescribeClusters(context.Background(), &ecs.DescribeClustersInput{}); err != nil {
			t.Fatal(err)
		}
	}
	if got := requests.Load(); got != 3 {
		t.Fatalf("server saw %d requests, want 3 (one retry)", got)
	}
	calls := l.List()
	if len(calls) != 2 || l.Calls() != 2 {
		t.Fatalf("recorded %d calls, want 2: %+v", len(calls), calls)
	}
	for _, c := range calls {
		if c.Service != "ECS" || c.Operation != "DescribeClusters" || c.End.Before(c.Start) {
			t.Errorf("call = %+v, want ECS DescribeClusters with start <= end", c)
		}
	}
	if got := l.Count("DescribeClusters"); got != 2 {
		t.Errorf("Count(DescribeClusters) = %d, want 2", got)
	}
	if got := l.Rounds(); got != 2 {
		t.Errorf("Rounds() = %d, want 2 for two sequential calls", got)
	}
	if got := other.Calls(); got != 0 {
		t.Errorf("the other config's log recorded %d calls, want 0", got)
	}
}
