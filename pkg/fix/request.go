package fix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/pullmedic/pullmedic/pkg/event"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

// Request is what the diagnose function sends the remediate function:
//
//	{"event": <EventBridge event>, "plan": [Step...], "cause": "rule id", "mode": "dry-run"}
//
// Only the event is needed. The plan and cause are what diagnose saw; they
// are compared with a fresh diagnosis and logged, never obeyed. mode may ask
// for a dry run; it can never ask for more than the cluster's tag allows.
type Request struct {
	Event json.RawMessage `json:"event"`
	Plan  []rules.Step    `json:"plan,omitempty"`
	Cause string          `json:"cause,omitempty"`
	Mode  string          `json:"mode,omitempty"`
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
	for i, s := range req.Plan {
		if !slices.Contains(allActions, s.Action) {
			return nil, nil, fmt.Errorf("remediate request: plan[%d].action %q is not a fix action", i, s.Action)
		}
	}
	t, err := event.Parse(req.Event)
	if err != nil {
		return nil, nil, fmt.Errorf("remediate request: %w", err)
	}
	return &req, t, nil
}
