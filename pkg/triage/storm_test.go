package triage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/pullmedic/pullmedic/internal/motoserver"
	"github.com/pullmedic/pullmedic/internal/statetest"
	"github.com/pullmedic/pullmedic/pkg/notify"
	"github.com/pullmedic/pullmedic/pkg/state"
	"github.com/pullmedic/pullmedic/pkg/triage"
)

// slackServer is a local incoming webhook that records the posts it takes.
type slackServer struct {
	mu    sync.Mutex
	posts []string
	// refuse are the statuses to answer the next posts with instead of
	// taking them; 429 comes with Retry-After: 1.
	refuse []int
}

func (s *slackServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.refuse) > 0 {
		status := s.refuse[0]
		s.refuse = s.refuse[1:]
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(status)
		return
	}
	s.posts = append(s.posts, string(body))
}

func (s *slackServer) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.posts
	s.posts = nil
	return out
}

// snsMessage is the SNS envelope an SQS subscriber receives.
type snsMessage struct {
	Subject           string
	Message           string
	MessageAttributes map[string]struct{ Value string }
}

// topic is an SNS topic with an SQS queue subscribed, both in moto.
type topic struct {
	arn   string
	sqs   *sqs.Client
	queue string
}

func newTopic(t *testing.T, cfg aws.Config) (*sns.Client, *topic) {
	ctx := context.Background()
	name := fmt.Sprintf("pullmedic-%d", time.Now().UnixNano())
	sq := sqs.NewFromConfig(cfg)
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	sn := sns.NewFromConfig(cfg)
	tp, err := sn.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: tp.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(attrs.Attributes["QueueArn"])})
	if err != nil {
		t.Fatal(err)
	}
	return sn, &topic{arn: aws.ToString(tp.TopicArn), sqs: sq, queue: aws.ToString(q.QueueUrl)}
}

// drain reads every message that arrived on the queue.
func (tp *topic) drain(t *testing.T) []snsMessage {
	var out []snsMessage
	for {
		got, err := tp.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(tp.queue), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Messages) == 0 {
			return out
		}
		for _, m := range got.Messages {
			var msg snsMessage
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &msg); err != nil {
				t.Fatalf("SQS body is not an SNS envelope: %v", err)
			}
			out = append(out, msg)
			if _, err := tp.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(tp.queue), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// lockedBuffer collects EMF lines from concurrent handlers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// metric sums a metric over the EMF lines written.
func (l *lockedBuffer) metric(name string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	sum := 0
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		var v map[string]any
		if json.Unmarshal([]byte(line), &v) == nil {
			if n, ok := v[name].(float64); ok {
				sum += int(n)
			}
		}
	}
	return sum
}

// TestStorm: 1,000 stopped-task events of 10 failing services, in random
// order and with redeliveries, handled by 20 goroutines against moto's
// DynamoDB, SNS, SQS and Secrets Manager and a local Slack.
func TestStorm(t *testing.T) {
	const (
		nServices = 10
		events    = 1000
		redeliver = 250
		workers   = 20
	)
	ctx := context.Background()
	cfg := motoserver.Config(t, "eu-west-1")
	tbl, db := statetest.New(t)
	tbl.Now = at(0)
	snsClient, tp := newTopic(t, cfg)

	slack := &slackServer{}
	srv := httptest.NewServer(slack)
	defer srv.Close()
	sm := secretsmanager.NewFromConfig(cfg)
	secret, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(fmt.Sprintf("pullmedic-slack-%d", time.Now().UnixNano())), SecretString: aws.String(`{"webhookUrl": "` + srv.URL + `"}`),
	})
	if err != nil {
		t.Fatal(err)
	}

	view := &countingView{snap: services(t, nServices, ecstypes.AssignPublicIpDisabled)}
	inv := &invoker{}
	emf := &lockedBuffer{}
	h := &triage.Handler{
		View:  view,
		State: tbl,
		Channels: notify.Channels{
			{Name: notify.ChannelSNS, Notifier: &notify.SNS{Client: snsClient, TopicArn: tp.arn}},
			{Name: notify.ChannelSlack, Notifier: &notify.Slack{URL: (&notify.WebhookSecret{Client: sm, ARN: aws.ToString(secret.ARN)}).URL}},
		},
		Invoker: inv, Remediate: "pullmedic-remediate", Metrics: notify.NewMetrics(emf), Log: quiet,
	}

	var deliveries [][]byte
	for i := range events {
		// Every task stopped at 10:00 UTC, so "since HH:MM" is known below.
		deliveries = append(deliveries, taskEvent(t, fmt.Sprintf("storm-%04d", i), fmt.Sprintf("web-%d", i%nServices), t0.Add(time.Duration(i%50)*time.Second)))
	}
	rng := rand.New(rand.NewPCG(4, 2))
	for range redeliver {
		deliveries = append(deliveries, deliveries[rng.IntN(events)])
	}
	rng.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })

	start := time.Now()
	queue := make(chan []byte)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for raw := range queue {
				if err := h.Handle(ctx, raw); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for _, raw := range deliveries {
		queue <- raw
	}
	close(queue)
	wg.Wait()
	t.Logf("storm: %d deliveries handled in %s", len(deliveries), time.Since(start))

	if n := view.calls.Load(); n != nServices {
		t.Errorf("%d diagnoses; want %d", n, nServices)
	}
	if n := len(slack.take()); n != nServices {
		t.Errorf("%d Slack posts; want %d", n, nServices)
	}
	published := tp.drain(t)
	seen := map[string]bool{}
	for _, m := range published {
		if m.MessageAttributes["kind"].Value != "problem" || m.MessageAttributes["cause"].Value != "network.public-ip" ||
			!strings.Contains(m.Subject, "no public IP on a public subnet") || !strings.Contains(m.Message, `"schema":"pullmedic.report/v1"`) {
			t.Errorf("unexpected SNS message: %+v", m)
		}
		seen[m.MessageAttributes["service"].Value] = true
	}
	if len(published) != nServices || len(seen) != nServices {
		t.Errorf("%d SNS messages for %d services; want %d for %d", len(published), len(seen), nServices, nServices)
	}
	total := 0
	for i := range nServices {
		open, err := tbl.OpenWindows(ctx, shop, fmt.Sprintf("service:web-%d", i), []string{"network"})
		if err != nil || len(open) != 1 {
			t.Fatalf("web-%d: windows %+v, %v", i, open, err)
		}
		total += open[0].Count
	}
	if total != events {
		t.Errorf("dedupe counts add up to %d; want %d distinct events", total, events)
	}
	if n := emf.metric(notify.Deduplicated); n != events-nServices {
		t.Errorf("Deduplicated metric %d; want %d", n, events-nServices)
	}
	if n := inv.count(); n != nServices {
		t.Errorf("%d remediate invocations; want %d", n, nServices)
	}

	t.Run("after the window, one still-failing message", func(t *testing.T) {
		tbl.Now = at(31 * time.Minute)
		if err := h.Handle(ctx, taskEvent(t, "late-1", "web-3", t0.Add(31*time.Minute))); err != nil {
			t.Fatal(err)
		}
		posts := slack.take()
		if len(posts) != 1 || !strings.Contains(posts[0], "Still failing: 100 more tasks since 10:00 UTC.") {
			t.Fatalf("Slack posts: %q; want one saying 100 more tasks since 10:00 UTC", posts)
		}
		msgs := tp.drain(t)
		if len(msgs) != 1 || msgs[0].MessageAttributes["kind"].Value != "still-failing" || !strings.HasPrefix(msgs[0].Subject, "[pullmedic] still failing: shop/web-3") {
			t.Fatalf("SNS messages: %+v", msgs)
		}
	})

	t.Run("table unreachable: notify anyway, never remediate", func(t *testing.T) {
		before := inv.count()
		down := *h
		down.State = state.New(db, "no-such-table")
		if err := down.Handle(ctx, taskEvent(t, "down-1", "web-5", t0.Add(32*time.Minute))); err != nil {
			t.Fatal(err)
		}
		if posts := slack.take(); len(posts) != 1 {
			t.Errorf("%d Slack posts; want 1", len(posts))
		}
		if msgs := tp.drain(t); len(msgs) != 1 || msgs[0].MessageAttributes["kind"].Value != "problem" {
			t.Errorf("SNS messages: %+v", msgs)
		}
		if n := inv.count(); n != before {
			t.Errorf("remediate invoked %d times without the state table", n-before)
		}
	})
}
