package remediate

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/pullmedic/pullmedic/internal/statetest"
	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/fix"
	"github.com/pullmedic/pullmedic/pkg/notify"
)

// The bundled scenario whose cluster is tagged "enabled": a service in a
// public subnet without public IPs.
const scenario = "../../examples/scenarios/public-subnet-no-public-ip/"

// request builds a remediate payload around the scenario's event; fields are
// added to or replace the defaults. The event is more than an hour old, as
// the scenario's snapshot holds no description of the task.
func request(t *testing.T, fields map[string]any) []byte {
	t.Helper()
	ev, err := os.ReadFile(scenario + "event.json")
	if err != nil {
		t.Fatal(err)
	}
	req := map[string]any{"event": json.RawMessage(ev), "cause": "network.public-ip"}
	for k, v := range fields {
		req[k] = v
	}
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// forged is the request with the event's subnet replaced.
func forged(t *testing.T, subnet string) []byte {
	t.Helper()
	ev, err := os.ReadFile(scenario + "event.json")
	if err != nil {
		t.Fatal(err)
	}
	var e map[string]any
	if err := json.Unmarshal(ev, &e); err != nil {
		t.Fatal(err)
	}
	for _, a := range e["detail"].(map[string]any)["attachments"].([]any) {
		for _, kv := range a.(map[string]any)["details"].([]any) {
			if kv := kv.(map[string]any); kv["name"] == "subnetId" {
				kv["value"] = subnet
			}
		}
	}
	return request(t, map[string]any{"event": e})
}

type fakeSNS struct {
	in  []*sns.PublishInput
	err error
}

func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.in = append(f.in, in)
	return &sns.PublishOutput{}, f.err
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHandler(t *testing.T) {
	const fn = "arn:aws:lambda:eu-west-1:111122223333:function:pullmedic-remediate"
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{InvokedFunctionArn: fn})
	cases := []struct {
		name      string
		payload   []byte
		pubErr    error
		outcome   string
		status    fix.Status
		published int
		metrics   map[string]int // metric name → sum
		err       string
	}{
		{"applies and publishes", request(t, nil), nil, fix.OutcomeChanged, fix.StatusVerified, 1, map[string]int{notify.FixesApplied: 1}, ""},
		{"dry-run from the request", request(t, map[string]any{"mode": "dry-run"}), nil, fix.OutcomeUnchanged, fix.StatusPlanned, 1, map[string]int{notify.FixesApplied: 0}, ""},
		{"publish fails: an error, so Lambda retries", request(t, nil), errors.New("throttled"), fix.OutcomeChanged, fix.StatusVerified, 1, map[string]int{notify.FixesApplied: 1}, "publish result: throttled"},
		{"forged subnet: refused, published and counted", forged(t, "subnet-0aaaaaaaaaaaaaaaa"), nil, fix.OutcomeRefused, "", 1,
			map[string]int{notify.FixesApplied: 0, notify.FixesRefused: 1}, ""},
		{"bad request", []byte(`{"event":{}}`), nil, "", "", 0, map[string]int{}, "remediate request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			snap, err := account.ReadSnapshotFile(scenario + "snapshot.json")
			if err != nil {
				t.Fatal(err)
			}
			pub := &fakeSNS{err: tc.pubErr}
			var emf strings.Builder
			h := &Handler{View: account.SnapshotView{Snap: snap}, Writer: fix.NewSnapshotWriter(snap), Publisher: pub, TopicARN: "arn:aws:sns:eu-west-1:111122223333:pullmedic",
				Table: "pullmedic-state", Metrics: notify.NewMetrics(&emf), Now: time.Now}
			res, err := h.Handle(ctx, tc.payload)
			if got := metrics(t, emf.String()); mustJSON(t, got) != mustJSON(t, tc.metrics) {
				t.Errorf("metrics %v, want %v; EMF %s", got, tc.metrics, emf.String())
			}
			if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("err = %v, want one with %q", err, tc.err)
			}
			if tc.err == "" && err != nil {
				t.Fatal(err)
			}
			if len(pub.in) != tc.published {
				t.Fatalf("published %d messages, want %d", len(pub.in), tc.published)
			}
			if tc.outcome == "" {
				return
			}
			if res.Outcome != tc.outcome || tc.status != "" && (len(res.Actions) == 0 || res.Actions[0].Status != tc.status) {
				t.Fatalf("outcome %s, actions %s; want %s, %s", res.Outcome, mustJSON(t, res.Actions), tc.outcome, tc.status)
			}
			for _, c := range res.Changes {
				if c.Who != fn {
					t.Errorf("who = %q, want the function ARN", c.Who)
				}
			}
			in := pub.in[0]
			// The attributes diagnose's reports carry, so subscription filters let it through.
			attrs := map[string]string{}
			for k, v := range in.MessageAttributes {
				attrs[k] = aws.ToString(v.StringValue)
			}
			want := map[string]string{"kind": "remediation", "schema": fix.SchemaV1, "outcome": res.Outcome, "cluster": res.Task.ClusterArn[strings.LastIndex(res.Task.ClusterArn, "/")+1:],
				"service": "web", "cause": cmp.Or(aws.ToString(res.Before.Cause), "none"), "severity": "high", "autoFix": res.Mode,
				"account": res.Task.Account, "region": res.Task.Region}
			if tc.outcome == fix.OutcomeRefused {
				want["severity"] = attrs["severity"] // a refusal names the forged task's diagnosis, whatever it is
			}
			if mustJSON(t, attrs) != mustJSON(t, want) {
				t.Errorf("attributes %v, want %v", attrs, want)
			}
			var msg map[string]string
			if err := json.Unmarshal([]byte(aws.ToString(in.Message)), &msg); err != nil || aws.ToString(in.MessageStructure) != "json" {
				t.Fatalf("message %s (%v), want MessageStructure json", aws.ToString(in.Message), err)
			}
			var got fix.Result
			if err := json.Unmarshal([]byte(msg["default"]), &got); err != nil || got.Schema != fix.SchemaV1 || mustJSON(t, got) != mustJSON(t, res) {
				t.Errorf("published JSON %s (%v), want the result", msg["default"], err)
			}
			email := msg["email"]
			if !strings.HasPrefix(email, "Remediation of "+res.Task.TaskArn) {
				t.Errorf("email text %q", email)
			}
			if res.Reason != "" && !strings.Contains(email, res.Reason) {
				t.Errorf("email text %q lacks the refusal's reason %q", email, res.Reason)
			}
			for _, c := range res.Changes {
				if undo := "undo: pullmedic undo --change " + c.ChangeID + " --table pullmedic-state --region " + strings.Split(res.Task.TaskArn, ":")[3]; !strings.Contains(email, undo) {
					t.Errorf("email text %q lacks %q", email, undo)
				}
			}
		})
	}
}

// metrics sums the EMF lines' metrics by name, checking each line declares
// its metrics in the pullmedic namespace.
func metrics(t *testing.T, emf string) map[string]int {
	t.Helper()
	sums := map[string]int{}
	for line := range strings.Lines(emf) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not an EMF line: %q (%v)", line, err)
		}
		var meta struct {
			AWS struct {
				CloudWatchMetrics []struct {
					Namespace string
					Metrics   []struct{ Name string }
				}
			} `json:"_aws"`
		}
		if err := json.Unmarshal([]byte(line), &meta); err != nil || len(meta.AWS.CloudWatchMetrics) != 1 || meta.AWS.CloudWatchMetrics[0].Namespace != notify.Namespace {
			t.Fatalf("EMF directive of %q (%v)", line, err)
		}
		for _, d := range meta.AWS.CloudWatchMetrics[0].Metrics {
			v, ok := m[d.Name].(float64)
			if !ok {
				t.Fatalf("metric %s has no value in %q", d.Name, line)
			}
			sums[d.Name] += int(v)
		}
	}
	return sums
}

// A result that could not be published is an error; Lambda's retry of the
// same request writes nothing more and publishes the change the first try
// made, so the "changed" message is not lost.
func TestPublishFailureRetryReportsTheChange(t *testing.T) {
	snap, err := account.ReadSnapshotFile(scenario + "snapshot.json")
	if err != nil {
		t.Fatal(err)
	}
	tbl, _ := statetest.New(t)
	pub := &fakeSNS{err: errors.New("throttled")}
	w := &countingWriter{Writer: fix.NewSnapshotWriter(snap)}
	h := &Handler{View: account.SnapshotView{Snap: snap}, Writer: w, Store: statetest.Ledger(tbl), Publisher: pub,
		TopicARN: "arn:aws:sns:eu-west-1:111122223333:pullmedic", Now: time.Now}
	if _, err := h.Handle(context.Background(), request(t, nil)); err == nil {
		t.Fatal("a result that could not be published returned no error")
	}
	pub.err = nil
	res, err := h.Handle(context.Background(), request(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != fix.OutcomeChanged || len(res.Changes) != 1 || w.n != 1 {
		t.Errorf("retry: outcome %s, %d changes, %d writes in all; want changed, 1, 1: %s", res.Outcome, len(res.Changes), w.n, mustJSON(t, res))
	}
	var first, second fix.Result
	for i, out := range []*fix.Result{&first, &second} {
		var msg map[string]string
		if err := json.Unmarshal([]byte(aws.ToString(pub.in[i].Message)), &msg); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(msg["default"]), out); err != nil {
			t.Fatal(err)
		}
	}
	if second.Outcome != fix.OutcomeChanged || len(second.Changes) != 1 || second.Changes[0].ChangeID != first.Changes[0].ChangeID {
		t.Errorf("published on retry: %s; want the first try's change", mustJSON(t, second))
	}
}

// countingWriter counts the writes that reach the writer beneath.
type countingWriter struct {
	fix.Writer
	n int
}

func (w *countingWriter) SetServicePublicIP(ctx context.Context, c, s string, assign ecstypes.AssignPublicIp) (before, after *ecstypes.AwsVpcConfiguration, err error) {
	w.n++
	return w.Writer.SetServicePublicIP(ctx, c, s, assign)
}

// A stop reason of 300 KB does not make the result unpublishable.
func TestLongStopReasonIsClipped(t *testing.T) {
	snap, err := account.ReadSnapshotFile(scenario + "snapshot.json")
	if err != nil {
		t.Fatal(err)
	}
	var e map[string]any
	ev, err := os.ReadFile(scenario + "event.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(ev, &e); err != nil {
		t.Fatal(err)
	}
	d := e["detail"].(map[string]any)
	d["stoppedReason"] = d["stoppedReason"].(string) + strings.Repeat(" and then some", 300<<10/14)
	pub := &fakeSNS{}
	h := &Handler{View: account.SnapshotView{Snap: snap}, Writer: fix.NewSnapshotWriter(snap), Publisher: pub,
		TopicARN: "arn:aws:sns:eu-west-1:111122223333:pullmedic", Now: time.Now}
	if _, err := h.Handle(context.Background(), request(t, map[string]any{"event": e})); err != nil {
		t.Fatal(err)
	}
	if len(pub.in) != 1 {
		t.Fatalf("published %d messages", len(pub.in))
	}
	if n := len(aws.ToString(pub.in[0].Message)); n > 64<<10 || !strings.Contains(aws.ToString(pub.in[0].Message), "[truncated") {
		t.Errorf("message of %d bytes, want a clipped one under 64 KiB with the marker", n)
	}
}
