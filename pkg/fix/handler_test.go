package fix

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/pullmedic/pullmedic/pkg/notify"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

// request builds a remediate payload around testdata/event.json (the
// public-IP scenario's task); fields are added to or replace the defaults.
func request(t *testing.T, fields map[string]any) []byte {
	t.Helper()
	ev, err := os.ReadFile("testdata/event.json")
	if err != nil {
		t.Fatal(err)
	}
	req := map[string]any{"event": json.RawMessage(ev), "cause": "network.public-ip",
		"plan": []rules.Step{{Action: rules.ActionPublicIP, Target: fxServiceArn, Params: map[string]any{}}}}
	for k, v := range fields {
		req[k] = v
	}
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeRequest(t *testing.T) {
	cases := []struct {
		name    string
		payload []byte
		err     string // a substring of the error; "" means valid
	}{
		{"valid", request(t, nil), ""},
		{"dry-run", request(t, map[string]any{"mode": "dry-run"}), ""},
		{"no plan", request(t, map[string]any{"plan": nil}), ""},
		{"apply cannot be asked for", request(t, map[string]any{"mode": "apply"}), `"mode" is "apply"`},
		{"unknown key", request(t, map[string]any{"force": true}), `unknown field "force"`},
		{"unknown action", request(t, map[string]any{"plan": []rules.Step{{Action: "delete-nat-gateway"}}}), `plan[0].action "delete-nat-gateway"`},
		{"no event", []byte(`{"plan":[]}`), `"event" is missing`},
		{"null event", []byte(`{"event":null}`), `"event" is missing`},
		{"event of another kind", []byte(`{"event":{"detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","detail":{}}}`), "not supported"},
		{"trailing data", append(request(t, nil), []byte(`{}`)...), "data after the JSON object"},
		{"not JSON", []byte(`plan: all`), "remediate request"},
		{"empty", nil, "remediate request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, task, err := DecodeRequest(tc.payload)
			if tc.err == "" {
				if err != nil || task == nil || task.TaskArn != fxTaskArn || req == nil {
					t.Fatalf("err %v, task %+v", err, task)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("err = %v, want one with %q", err, tc.err)
			}
		})
	}
}

// FuzzDecodeRequest: no input makes decoding panic, and whatever it accepts
// has an event, a task with an ARN, and only actions of the vocabulary.
// Seeds are in testdata/fuzz/FuzzDecodeRequest.
func FuzzDecodeRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		req, task, err := DecodeRequest(data)
		if err != nil {
			return
		}
		if task == nil || !strings.HasPrefix(task.TaskArn, "arn:") || len(req.Event) == 0 {
			t.Fatalf("accepted %q as task %+v", data, task)
		}
		for _, s := range req.Plan {
			if !rules.Contains(allActions, s.Action) {
				t.Fatalf("accepted action %q", s.Action)
			}
		}
	})
}

type fakeSNS struct {
	in  []*sns.PublishInput
	err error
}

func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.in = append(f.in, in)
	return &sns.PublishOutput{}, f.err
}

func TestHandler(t *testing.T) {
	const fn = "arn:aws:lambda:eu-west-1:111122223333:function:pullmedic-remediate"
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{InvokedFunctionArn: fn})
	cases := []struct {
		name    string
		payload []byte
		pubErr  error
		status  Status
		fixes   int // the FixesApplied metric
		err     string
	}{
		{"applies and publishes", request(t, nil), nil, StatusVerified, 1, ""},
		{"dry-run from the request", request(t, map[string]any{"mode": "dry-run"}), nil, StatusPlanned, 0, ""},
		{"publish fails", request(t, nil), errors.New("throttled"), StatusVerified, 1, "publish result: throttled"},
		{"bad request", []byte(`{"event":{}}`), nil, "", 0, "remediate request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			snap := publicNoIP("enabled")
			pub := &fakeSNS{err: tc.pubErr}
			var emf strings.Builder
			h := &Handler{View: snapView{snap}, Writer: NewSnapshotWriter(snap), Publisher: pub, TopicARN: "arn:aws:sns:eu-west-1:111122223333:pullmedic",
				Table: "pullmedic-state", Metrics: notify.NewMetrics(&emf), Now: clock()}
			res, err := h.Handle(ctx, tc.payload)
			if got := fixesApplied(t, emf.String()); got != tc.fixes {
				t.Errorf("FixesApplied = %d, want %d; EMF %s", got, tc.fixes, emf.String())
			}
			if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("err = %v, want one with %q", err, tc.err)
			}
			if tc.err == "" && err != nil {
				t.Fatal(err)
			}
			if tc.status == "" {
				if res != nil || len(pub.in) != 0 {
					t.Errorf("a bad request got a result or a message")
				}
				return
			}
			if res.Actions[0].Status != tc.status {
				t.Errorf("actions %s, want %s", mustJSON(t, res.Actions), tc.status)
			}
			for _, c := range res.Changes {
				if c.Who != fn {
					t.Errorf("who = %q, want the function ARN", c.Who)
				}
			}
			if len(pub.in) != 1 || aws.ToString(pub.in[0].TopicArn) != h.TopicARN {
				t.Fatalf("published %+v", pub.in)
			}
			in := pub.in[0]
			// The attributes diagnose's reports carry, so subscription filters let it through.
			attrs := map[string]string{}
			for k, v := range in.MessageAttributes {
				attrs[k] = aws.ToString(v.StringValue)
			}
			want := map[string]string{"kind": "remediation", "schema": SchemaV1, "outcome": res.Outcome, "cluster": "prod",
				"service": "api", "cause": "network.public-ip", "severity": "high", "autoFix": res.Mode}
			if mustJSON(t, attrs) != mustJSON(t, want) {
				t.Errorf("attributes %v, want %v", attrs, want)
			}
			if s := aws.ToString(in.Subject); s != "[pullmedic] prod/api: remediation "+res.Outcome+" (network.public-ip)" {
				t.Errorf("subject %q", s)
			}
			var msg map[string]string
			if err := json.Unmarshal([]byte(aws.ToString(in.Message)), &msg); err != nil || aws.ToString(in.MessageStructure) != "json" {
				t.Fatalf("message %s (%v), want MessageStructure json", aws.ToString(in.Message), err)
			}
			var got Result
			if err := json.Unmarshal([]byte(msg["default"]), &got); err != nil || got.Schema != SchemaV1 || mustJSON(t, got) != mustJSON(t, res) {
				t.Errorf("published JSON %s (%v), want the result", msg["default"], err)
			}
			email := msg["email"]
			if !strings.HasPrefix(email, "Remediation of "+fxTaskArn) {
				t.Errorf("email text %q", email)
			}
			for _, c := range res.Changes {
				if undo := "undo: pullmedic undo --change " + c.ChangeID + " --table pullmedic-state --region eu-west-1"; !strings.Contains(email, undo) {
					t.Errorf("email text %q lacks %q", email, undo)
				}
			}
		})
	}
}

// fixesApplied sums the FixesApplied metric of EMF lines, checking that each
// line declares it in the pullmedic namespace.
func fixesApplied(t *testing.T, emf string) int {
	t.Helper()
	sum := 0
	for line := range strings.Lines(emf) {
		var m struct {
			FixesApplied *int
			AWS          struct {
				CloudWatchMetrics []struct {
					Namespace string
					Metrics   []struct{ Name string }
				}
			} `json:"_aws"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil || m.FixesApplied == nil {
			t.Fatalf("not a FixesApplied EMF line: %q (%v)", line, err)
		}
		d := m.AWS.CloudWatchMetrics
		if len(d) != 1 || d[0].Namespace != notify.Namespace || len(d[0].Metrics) != 1 || d[0].Metrics[0].Name != notify.FixesApplied {
			t.Errorf("EMF directive of %q", line)
		}
		sum += *m.FixesApplied
	}
	return sum
}
