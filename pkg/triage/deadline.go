package triage

import (
	"context"
	"time"

	"github.com/pullmedic/pullmedic/pkg/state"
)

// Deadlines. The template gives the function 60 s. Every step has a deadline
// of its own, and all of them end with the invocation's budget: its deadline
// less margin.
const (
	// tableCall bounds one state-table call: one hung HTTP attempt
	// (account.AttemptTimeout, 4 s) and a quick retry. A hung table costs
	// the gate one such call before the flow notifies without the table.
	tableCall = 5 * time.Second
	// gateStep bounds claiming the event and counting its task.
	gateStep = 8 * time.Second
	// diagnoseStep bounds the diagnosis: about 30 reads in 4 rounds, with
	// room for the SDK's backoff under throttling.
	diagnoseStep = 20 * time.Second
	// sendCall bounds one channel's send: SNS's retries, or Slack's posts
	// (each bounded by notify.Slack) and its backoff between them.
	sendCall = 10 * time.Second
	// notifyStep bounds reading the delivery records and sending.
	notifyStep = tableCall + sendCall
	// handOffStep bounds the asynchronous Invoke of the remediate function.
	handOffStep = 5 * time.Second
	// rollbackTime bounds a rollback, which runs when the budget is spent.
	rollbackTime = 5 * time.Second
	// margin is kept back from the invocation's deadline: a rollback, the
	// delivery records of sends that made it, and returning the error run
	// in it, so that Lambda never kills an invocation halfway.
	margin = 15 * time.Second
	// defaultBudget is the budget of a context without a deadline (tests, a
	// local run): the template's timeout less margin.
	defaultBudget = 60*time.Second - margin
)

// budget is the context of one invocation: it ends margin before the
// invocation's deadline (a quarter of the time left, if that is less).
func budget(ctx context.Context) (context.Context, context.CancelFunc) {
	end, ok := ctx.Deadline()
	if !ok {
		return context.WithTimeout(ctx, defaultBudget)
	}
	return context.WithDeadline(ctx, end.Add(-min(margin, time.Until(end)/4)))
}

// timed gives every call of the state table a deadline of its own (tableCall),
// so a hung table costs each step a bounded time, never the invocation.
type timed struct{ s State }

func (t timed) ClaimEvent(ctx context.Context, id string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, tableCall)
	defer cancel()
	return t.s.ClaimEvent(ctx, id)
}

func (t timed) ReleaseEvent(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, tableCall)
	defer cancel()
	return t.s.ReleaseEvent(ctx, id)
}

func (t timed) Count(ctx context.Context, key state.DedupeKey, eventID string, taskTime time.Time) (*state.Window, error) {
	ctx, cancel := context.WithTimeout(ctx, tableCall)
	defer cancel()
	return t.s.Count(ctx, key, eventID, taskTime)
}

func (t timed) Notified(ctx context.Context, w *state.Window, cause string) error {
	ctx, cancel := context.WithTimeout(ctx, tableCall)
	defer cancel()
	return t.s.Notified(ctx, w, cause)
}

func (t timed) Undo(ctx context.Context, w *state.Window) error {
	ctx, cancel := context.WithTimeout(ctx, tableCall)
	defer cancel()
	return t.s.Undo(ctx, w)
}

func (t timed) OpenWindows(ctx context.Context, cluster state.Cluster, group string, classes []string) ([]*state.Window, error) {
	ctx, cancel := context.WithTimeout(ctx, tableCall)
	defer cancel()
	return t.s.OpenWindows(ctx, cluster, group, classes)
}

func (t timed) Close(ctx context.Context, w *state.Window) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, tableCall)
	defer cancel()
	return t.s.Close(ctx, w)
}

func (t timed) Reopen(ctx context.Context, w *state.Window) error {
	ctx, cancel := context.WithTimeout(ctx, tableCall)
	defer cancel()
	return t.s.Reopen(ctx, w)
}

func (t timed) RecentFixes(ctx context.Context, cluster state.Cluster, service string) ([]state.Fix, error) {
	ctx, cancel := context.WithTimeout(ctx, tableCall)
	defer cancel()
	return t.s.RecentFixes(ctx, cluster, service)
}

func (t timed) Delivered(ctx context.Context, noticeID, channel string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, tableCall)
	defer cancel()
	return t.s.Delivered(ctx, noticeID, channel)
}

func (t timed) MarkDelivered(ctx context.Context, noticeID, channel string) error {
	ctx, cancel := context.WithTimeout(ctx, tableCall)
	defer cancel()
	return t.s.MarkDelivered(ctx, noticeID, channel)
}
