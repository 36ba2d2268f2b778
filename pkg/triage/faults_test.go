package triage_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/pullmedic/pullmedic/internal/faultproxy"
	"github.com/pullmedic/pullmedic/internal/motoserver"
	"github.com/pullmedic/pullmedic/internal/statetest"
	"github.com/pullmedic/pullmedic/pkg/notify"
	"github.com/pullmedic/pullmedic/pkg/triage"
)

// faultRig is the handler with both real channels: SNS in moto (a topic with
// an SQS queue subscribed), reached through a fault-injecting proxy, and a
// local Slack webhook; the state table in moto.
type faultRig struct {
	h       *triage.Handler
	proxy   *faultproxy.Proxy
	topic   *topic
	slack   *slackServer
	invoker *invoker
}

func newFaultRig(t *testing.T) *faultRig {
	tbl, _ := statetest.New(t)
	tbl.Now = at(0)
	cfg := motoserver.Config(t, "eu-west-1")
	_, tp := newTopic(t, cfg)
	r := &faultRig{proxy: faultproxy.New(t, motoserver.Endpoint(t)), topic: tp, slack: &slackServer{}, invoker: &invoker{}}
	cfg.BaseEndpoint = aws.String(r.proxy.URL)
	srv := httptest.NewServer(r.slack)
	t.Cleanup(srv.Close)
	r.h = &triage.Handler{
		View:  &countingView{snap: services(t, 1, ecstypes.AssignPublicIpDisabled)},
		State: tbl,
		Channels: notify.Channels{
			{Name: notify.ChannelSNS, Notifier: &notify.SNS{Client: sns.NewFromConfig(cfg), TopicArn: tp.arn}},
			{Name: notify.ChannelSlack, Notifier: &notify.Slack{
				URL:      func(context.Context) (string, error) { return srv.URL, nil },
				Attempts: 2, Backoff: 10 * time.Millisecond,
			}},
		},
		Invoker: r.invoker, Remediate: "pullmedic-remediate", Metrics: notify.NewMetrics(discard{}), Log: quiet,
	}
	return r
}

// Each fault fails the first try of an event; Lambda's retry of the event
// must deliver the notice exactly once on each channel, and hand off once.
func TestExactlyOncePerChannel(t *testing.T) {
	snsDown := func(r *faultRig) {
		// Every attempt of one Publish call: the SDK retries 3 times.
		r.proxy.Set(faultproxy.Rule{Service: "sns", Operation: "Publish", Fault: faultproxy.Unavailable, Times: 3})
	}
	cases := []struct {
		name    string
		before  [][]byte // handled first, without faults
		event   []byte   // its first try fails
		breakIt func(r *faultRig)
		kind    notify.Kind
	}{
		{"SNS fails", nil, taskEvent(t, "e1", "web-0", t0), snsDown, notify.Problem},
		{"Slack answers 429 then 500", nil, taskEvent(t, "e1", "web-0", t0),
			func(r *faultRig) { r.slack.refuse = []int{http.StatusTooManyRequests, http.StatusInternalServerError} }, notify.Problem},
		{"the hand-off fails", nil, taskEvent(t, "e1", "web-0", t0), func(r *faultRig) { r.invoker.fail = 1 }, notify.Problem},
		{"SNS fails to say resolved", [][]byte{taskEvent(t, "e1", "web-0", t0)},
			deploymentEvent("d1", "web-0", "SERVICE_DEPLOYMENT_COMPLETED", t0.Add(time.Minute)), snsDown, notify.Resolved},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newFaultRig(t)
			ctx := context.Background()
			for _, raw := range c.before {
				if err := r.h.Handle(ctx, raw); err != nil {
					t.Fatal(err)
				}
			}
			r.slack.take()
			r.topic.drain(t)

			c.breakIt(r)
			if err := r.h.Handle(ctx, c.event); err == nil {
				t.Fatal("Handle succeeded; the event would not be retried")
			}
			if err := r.h.Handle(ctx, c.event); err != nil { // Lambda's retry
				t.Fatal(err)
			}
			posts, msgs := r.slack.take(), r.topic.drain(t)
			t.Logf("duplicate deliveries: Slack %d, SNS %d", len(posts)-1, len(msgs)-1)
			if len(posts) != 1 || len(msgs) != 1 {
				t.Fatalf("%d Slack posts and %d SNS messages; want one of each", len(posts), len(msgs))
			}
			if kind := msgs[0].MessageAttributes["kind"].Value; kind != string(c.kind) {
				t.Errorf("SNS message of kind %q; want %q", kind, c.kind)
			}
			if n := r.invoker.count(); n != 1 {
				t.Errorf("%d remediate invocations; want 1", n)
			}
		})
	}
}

// notifierFunc is a notify.Notifier.
type notifierFunc func(context.Context, *notify.Notice) error

func (f notifierFunc) Notify(ctx context.Context, n *notify.Notice) error { return f(ctx, n) }

// A state table that never answers still lets the notice out, well within
// the invocation's deadline, and never hands a fix off: without the table
// there is no lock.
func TestHungTableNotifiesAndNeverFixes(t *testing.T) {
	cases := []struct {
		name string
		hang faultproxy.Rule
	}{
		{"every call hangs", faultproxy.Rule{Service: "dynamodb", Fault: faultproxy.Hang}},
		{"the count hangs after the claim", faultproxy.Rule{Service: "dynamodb", Operation: "UpdateItem", Fault: faultproxy.Hang}},
	}
	const lambdaTimeout = 60 * time.Second // template.yaml
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			proxy := faultproxy.New(t, motoserver.Endpoint(t))
			tbl := statetest.Via(t, proxy.URL)
			tbl.Now = at(0)
			proxy.Set(c.hang)
			start := time.Now()
			var notices atomic.Int32
			var noticeAt atomic.Int64
			inv := &invoker{}
			h := &triage.Handler{
				View: &countingView{snap: services(t, 1, ecstypes.AssignPublicIpDisabled)}, State: tbl,
				Channels: notify.Channels{{Name: "test", Notifier: notifierFunc(func(context.Context, *notify.Notice) error {
					notices.Add(1)
					noticeAt.Store(int64(time.Since(start)))
					return nil
				})}},
				Invoker: inv, Remediate: "pullmedic-remediate", Metrics: notify.NewMetrics(discard{}), Log: quiet,
			}
			ctx, cancel := context.WithTimeout(context.Background(), lambdaTimeout)
			defer cancel()
			if err := h.Handle(ctx, taskEvent(t, "e1", "web-0", t0)); err != nil {
				t.Fatalf("Handle = %v; a notice sent without the table is a success", err)
			}
			took := time.Duration(noticeAt.Load())
			t.Logf("notified %s after the event, returned after %s", took.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
			if notices.Load() != 1 {
				t.Fatalf("%d notices; want 1", notices.Load())
			}
			// One hung table call, bounded by its own deadline, then the notice.
			if took > 7*time.Second {
				t.Errorf("notified after %s; want within one table call's deadline (5 s) and the diagnosis", took)
			}
			if n := inv.count(); n != 0 {
				t.Errorf("%d remediate invocations without the table", n)
			}
		})
	}
}
