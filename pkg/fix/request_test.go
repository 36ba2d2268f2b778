package fix

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

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
		"plan": []rules.Step{{Action: rules.ActionPublicIP, Target: fxServiceArn}}}
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
		{"unknown parameter", request(t, map[string]any{"plan": []map[string]any{{"action": rules.ActionAllowFromTask, "target": "sg-ep",
			"params": map[string]any{"cidr": "0.0.0.0/0"}}}}), `unknown field "cidr"`},
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
			if !rules.IsAction(s.Action) {
				t.Fatalf("accepted action %q", s.Action)
			}
		}
	})
}
