package fix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"

	"github.com/pullmedic/pullmedic/pkg/event"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

// Request is what the diagnose function (or, on a click in Slack, the
// approve function) sends the remediate function:
//
//	{"event": <EventBridge event>, "plan": [Step...], "cause": "rule id", "mode": "dry-run",
//	 "approvedBy": "slack:U0123ABCD", "responseUrl": "https://hooks.slack.com/actions/..."}
//
// Only the event is needed. The plan and cause are what diagnose saw; they
// are compared with a fresh diagnosis and logged, never obeyed. mode may ask
// for a dry run; it can never ask for more than the cluster's tag allows.
// approvedBy names the person who approved the fix: on a cluster tagged
// "approve" it is what lets remediate apply, and every change records it.
// responseUrl is where the outcome goes: the Slack message the person clicked.
// Only the approve function sets them, and only the two pullmedic functions
// may invoke remediate (template.yaml).
type Request struct {
	Event       json.RawMessage `json:"event"`
	Plan        []rules.Step    `json:"plan,omitempty"`
	Cause       string          `json:"cause,omitempty"`
	Mode        string          `json:"mode,omitempty"`
	ApprovedBy  string          `json:"approvedBy,omitempty"`
	ResponseURL string          `json:"responseUrl,omitempty"`
}

// DecodeRequest reads a Request strictly (unknown keys, trailing data, an
// unknown action or mode are errors) and parses its event.
func DecodeRequest(data []byte) (*Request, *event.Task, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var req Request
	if err := dec.Decode(&req); err != nil {
		return nil, nil, fmt.Errorf("remediate request: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, nil, errors.New("remediate request: data after the JSON object")
	}
	if len(req.Event) == 0 || string(req.Event) == "null" {
		return nil, nil, errors.New(`remediate request: "event" is missing`)
	}
	if req.Mode != "" && req.Mode != rules.ModeDryRun {
		return nil, nil, fmt.Errorf(`remediate request: "mode" is %q; only %q may be asked for`, req.Mode, rules.ModeDryRun)
	}
	if req.ResponseURL != "" {
		if u, err := url.Parse(req.ResponseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, nil, errors.New(`remediate request: "responseUrl" is not an http(s) URL`)
		}
		if req.ApprovedBy == "" {
			return nil, nil, errors.New(`remediate request: "responseUrl" without "approvedBy"`)
		}
	}
	for i, s := range req.Plan {
		if !rules.IsAction(s.Action) {
			return nil, nil, fmt.Errorf("remediate request: plan[%d].action %q is not a fix action", i, s.Action)
		}
	}
	t, err := event.Parse(req.Event)
	if err != nil {
		return nil, nil, fmt.Errorf("remediate request: %w", err)
	}
	return &req, t, nil
}
