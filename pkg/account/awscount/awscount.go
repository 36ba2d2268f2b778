// Package awscount is an SDK middleware that records every AWS call a client
// makes, so a diagnosis can log (and a benchmark can report) how many calls it
// made and in how many sequential rounds.
package awscount

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// Call is one API operation, retries included.
type Call struct {
	Service   string
	Operation string
	Start     time.Time
	End       time.Time
}

// CallLog collects Calls. It is safe for concurrent use.
type CallLog struct {
	mu    sync.Mutex
	calls []Call
}

// New returns an empty CallLog.
func New() *CallLog { return &CallLog{} }

// Attach adds the log to every client later built from cfg.
// It never writes into a backing array cfg may share with a copy.
func (l *CallLog) Attach(cfg *aws.Config) {
	cfg.APIOptions = append(slices.Clip(cfg.APIOptions), l.AddTo)
}

// AddTo is the API option (aws.Config.APIOptions, config.WithAPIOptions).
// It sits in the Initialize step, so one Call spans all retry attempts.
func (l *CallLog) AddTo(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("pullmedic.CallLog",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			start := time.Now()
			out, md, err := next.HandleInitialize(ctx, in)
			l.add(Call{
				Service:   awsmiddleware.GetServiceID(ctx),
				Operation: awsmiddleware.GetOperationName(ctx),
				Start:     start,
				End:       time.Now(),
			})
			return out, md, err
		}), middleware.After)
}

func (l *CallLog) add(c Call) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, c)
}

// List returns a copy of the recorded calls in completion order.
func (l *CallLog) List() []Call {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}

// Calls is the number of recorded calls.
func (l *CallLog) Calls() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.calls)
}

// Count is the number of calls of one operation ("DescribeSecurityGroups").
func (l *CallLog) Count(operation string) int {
	n := 0
	for _, c := range l.List() {
		if c.Operation == operation {
			n++
		}
	}
	return n
}

// Rounds is the longest chain of calls in which each ends before the next
// starts: the number of round trips a caller waited for one after another.
// Picking by earliest end is optimal for this (interval scheduling).
func (l *CallLog) Rounds() int {
	calls := l.List()
	slices.SortFunc(calls, func(a, b Call) int { return a.End.Compare(b.End) })
	n := 0
	var last time.Time
	for _, c := range calls {
		if n == 0 || !c.Start.Before(last) {
			n++
			last = c.End
		}
	}
	return n
}
