package notify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// webhook is a local Slack: it answers each post with the next status of
// script (the last one forever) and records the bodies it accepted.
type webhook struct {
	mu        sync.Mutex
	script    []int
	posts     int
	delivered [][]byte
}

func (w *webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.mu.Lock()
	defer w.mu.Unlock()
	status := w.script[min(w.posts, len(w.script)-1)]
	w.posts++
	if status == http.StatusTooManyRequests {
		rw.Header().Set("Retry-After", "1")
	}
	if status == http.StatusOK {
		w.delivered = append(w.delivered, body)
	}
	rw.WriteHeader(status)
}

func postTo(t *testing.T, script ...int) (*webhook, *Slack) {
	hook := &webhook{script: script}
	srv := httptest.NewServer(hook)
	t.Cleanup(srv.Close)
	return hook, &Slack{URL: func(context.Context) (string, error) { return srv.URL, nil }, Backoff: time.Millisecond}
}

func TestSlackDelivery(t *testing.T) {
	cases := []struct {
		name      string
		script    []int
		wantErr   bool
		posts     int
		delivered int
		minTime   time.Duration
	}{
		{"ok", []int{200}, false, 1, 1, 0},
		{"429 with Retry-After, then ok", []int{429, 200}, false, 2, 1, time.Second},
		{"503 twice, then ok", []int{503, 503, 200}, false, 3, 1, 0},
		{"500 forever", []int{500}, true, 5, 0, 0},
		{"404 is not retried", []int{404}, true, 1, 0, 0},
	}
	n := &Notice{Kind: Problem, Cluster: "prod", Group: "service:web", Time: t0}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hook, s := postTo(t, c.script...)
			start := time.Now()
			err := s.Notify(context.Background(), n)
			if (err != nil) != c.wantErr {
				t.Fatalf("Notify = %v; want error %v", err, c.wantErr)
			}
			if hook.posts != c.posts || len(hook.delivered) != c.delivered {
				t.Errorf("%d posts, %d delivered; want %d, %d", hook.posts, len(hook.delivered), c.posts, c.delivered)
			}
			if took := time.Since(start); took < c.minTime {
				t.Errorf("retried after %s; Retry-After asked for %s", took, c.minTime)
			}
			for _, body := range hook.delivered {
				var msg struct{ Text string }
				if json.Unmarshal(body, &msg) != nil || msg.Text != n.Subject() {
					t.Errorf("delivered %s", body)
				}
			}
		})
	}
}

func TestSlackGivesUpWhenRetryAfterOutlastsTheDeadline(t *testing.T) {
	hook, s := postTo(t, 429)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Notify(ctx, &Notice{Kind: Problem, Cluster: "prod", Group: "service:web"})
	if err == nil || !strings.Contains(err.Error(), "no time left") {
		t.Fatalf("Notify = %v; want a no-time-left error", err)
	}
	if hook.posts != 1 || time.Since(start) > 250*time.Millisecond {
		t.Errorf("%d posts in %s; want one, at once", hook.posts, time.Since(start))
	}
}

type fakeSecrets struct {
	value string
	err   error
	calls atomic.Int32
}

func (f *fakeSecrets) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.calls.Add(1)
	if f.err != nil {
		return nil, f.err
	}
	return &secretsmanager.GetSecretValueOutput{ARN: in.SecretId, SecretString: aws.String(f.value)}, nil
}

func TestWebhookSecret(t *testing.T) {
	const hook = "https://hooks.slack.com/services/T000/B000/XXXX"
	cases := []struct {
		name, value, want, wantErr string
	}{
		{"plain URL", hook + "\n", hook, ""},
		{"JSON", `{"webhookUrl": "` + hook + `"}`, hook, ""},
		{"JSON without the key", `{"url": "` + hook + `"}`, "", "not an http(s) URL"},
		{"broken JSON", `{"webhookUrl": `, "", "neither a URL nor JSON"},
		{"not a URL", "xoxb-token", "", "not an http(s) URL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sm := &fakeSecrets{value: c.value}
			w := &WebhookSecret{Client: sm, ARN: "arn:secret"}
			for range 3 {
				got, err := w.URL(context.Background())
				if c.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), c.wantErr) || strings.Contains(err.Error(), "xoxb") {
						t.Fatalf("URL = %q, %v; want an error with %q that does not quote the secret", got, err, c.wantErr)
					}
					continue
				}
				if err != nil || got != c.want {
					t.Fatalf("URL = %q, %v; want %q", got, err, c.want)
				}
			}
			if want := map[bool]int32{true: 1, false: 3}[c.wantErr == ""]; sm.calls.Load() != want {
				t.Errorf("%d secret reads; want %d (a good value is cached, a bad one is not)", sm.calls.Load(), want)
			}
		})
	}
}

func TestMetricsAreEMF(t *testing.T) {
	var b strings.Builder
	m := NewMetrics(&b)
	m.Now = func() time.Time { return t0 }
	m.PullFailure("network.route")
	m.Count(Deduplicated, 3)
	m.Duration(DiagnosisMillis, 1500*time.Millisecond)
	want := []string{
		`{"Cause":"network.route","PullFailures":1,"_aws":{"Timestamp":1773051242000,"CloudWatchMetrics":[{"Namespace":"pullmedic","Dimensions":[["Cause"]],"Metrics":[{"Name":"PullFailures","Unit":"Count"}]}]}}`,
		`{"Deduplicated":3,"_aws":{"Timestamp":1773051242000,"CloudWatchMetrics":[{"Namespace":"pullmedic","Dimensions":[[]],"Metrics":[{"Name":"Deduplicated","Unit":"Count"}]}]}}`,
		`{"DiagnosisMillis":1500,"_aws":{"Timestamp":1773051242000,"CloudWatchMetrics":[{"Namespace":"pullmedic","Dimensions":[[]],"Metrics":[{"Name":"DiagnosisMillis","Unit":"Milliseconds"}]}]}}`,
	}
	if got := strings.Split(strings.TrimSpace(b.String()), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("EMF lines:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
