package approve

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/pullmedic/pullmedic/pkg/notify"
	"github.com/pullmedic/pullmedic/pkg/state"
)

var testApproval = state.ApprovalID("ev-1#problem")

// clickPayload is a block_actions payload as Slack sends it, trimmed to the
// fields a real one always has; edit changes it before it is encoded.
func clickPayload(edit func(map[string]any)) map[string]any {
	p := map[string]any{
		"type":       "block_actions",
		"user":       map[string]any{"id": "U0APPROVER", "username": "ana", "team_id": "T0TEAM"},
		"api_app_id": "A0APP", "token": "legacy-verification-token", "trigger_id": "1.2.3",
		"team":         map[string]any{"id": "T0TEAM", "domain": "example"},
		"container":    map[string]any{"type": "message", "message_ts": "1700000000.000100", "channel_id": "C0OPS"},
		"channel":      map[string]any{"id": "C0OPS", "name": "ops"},
		"response_url": "https://hooks.slack.com/actions/T0TEAM/1/abc",
		"actions": []any{map[string]any{
			"type": "button", "action_id": notify.ActionApply, "block_id": notify.ApprovalBlockID,
			"value": testApproval, "text": map[string]any{"type": "plain_text", "text": "Apply fix"}, "action_ts": "1700000001.000200",
		}},
	}
	if edit != nil {
		edit(p)
	}
	return p
}

// formBody is the form-encoded request body carrying p.
func formBody(p map[string]any) []byte {
	j, _ := json.Marshal(p)
	return []byte(url.Values{"payload": {string(j)}}.Encode())
}

func action(p map[string]any) map[string]any { return p["actions"].([]any)[0].(map[string]any) }

func TestParseClick(t *testing.T) {
	cases := []struct {
		name string
		body []byte
		want *Click // nil: ErrBadPayload
		why  string // in the error
	}{
		{"apply", formBody(clickPayload(nil)),
			&Click{Approval: testApproval, Decision: state.DecisionApply, User: "U0APPROVER", Name: "ana", ResponseURL: "https://hooks.slack.com/actions/T0TEAM/1/abc"}, ""},
		{"dismiss", formBody(clickPayload(func(p map[string]any) { action(p)["action_id"] = notify.ActionDismiss })),
			&Click{Approval: testApproval, Decision: state.DecisionDismiss, User: "U0APPROVER", Name: "ana", ResponseURL: "https://hooks.slack.com/actions/T0TEAM/1/abc"}, ""},
		{"an Enterprise Grid user", formBody(clickPayload(func(p map[string]any) { p["user"] = map[string]any{"id": "W0GRID"} })),
			&Click{Approval: testApproval, Decision: state.DecisionApply, User: "W0GRID", ResponseURL: "https://hooks.slack.com/actions/T0TEAM/1/abc"}, ""},
		{"not a form", []byte("%zz"), nil, "not form-encoded"},
		{"no payload", []byte("token=x"), nil, `one "payload"`},
		{"two payloads", []byte("payload=%7B%7D&payload=%7B%7D"), nil, `one "payload"`},
		{"payload not JSON", []byte("payload=%7Bnope"), nil, "not JSON"},
		{"a view submission", formBody(clickPayload(func(p map[string]any) { p["type"] = "view_submission" })), nil, "view_submission"},
		{"no action", formBody(clickPayload(func(p map[string]any) { p["actions"] = []any{} })), nil, "0 actions"},
		{"two actions", formBody(clickPayload(func(p map[string]any) { p["actions"] = append(p["actions"].([]any), action(p)) })), nil, "2 actions"},
		{"another app's button", formBody(clickPayload(func(p map[string]any) { action(p)["action_id"] = "approve_expense" })), nil, "approve_expense"},
		{"our action in another block", formBody(clickPayload(func(p map[string]any) { action(p)["block_id"] = "x" })), nil, `block "x"`},
		{"a plan in the value", formBody(clickPayload(func(p map[string]any) {
			action(p)["value"] = `{"plan":[{"action":"sg-allow-443-egress","target":"sg-1"}]}`
		})), nil, "not an approval ID"},
		{"no user", formBody(clickPayload(func(p map[string]any) { delete(p, "user") })), nil, "user.id"},
		{"a bot", formBody(clickPayload(func(p map[string]any) { p["user"] = map[string]any{"id": "B0BOT"} })), nil, "user.id"},
		{"no response_url", formBody(clickPayload(func(p map[string]any) { delete(p, "response_url") })), nil, "response_url"},
		{"a file response_url", formBody(clickPayload(func(p map[string]any) { p["response_url"] = "file:///etc/passwd" })), nil, "response_url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseClick(tc.body)
			if tc.want == nil {
				if !errors.Is(err, ErrBadPayload) || !strings.Contains(err.Error(), tc.why) {
					t.Fatalf("ParseClick = %+v, %v; want ErrBadPayload saying %q", got, err, tc.why)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *got != *tc.want {
				t.Errorf("ParseClick = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// Whatever the body, ParseClick does not panic, and a click it accepts is
// one a handler can act on safely: a well-formed approval ID, a decision, a
// user ID and an http(s) response_url.
func FuzzParseClick(f *testing.F) {
	f.Add(formBody(clickPayload(nil)))
	f.Add(formBody(clickPayload(func(p map[string]any) { action(p)["action_id"] = notify.ActionDismiss })))
	f.Add([]byte("payload=%7B%22type%22%3A%22block_actions%22%7D"))
	f.Add([]byte(""))
	f.Add([]byte("payload=null"))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := ParseClick(body)
		if err != nil {
			if !errors.Is(err, ErrBadPayload) {
				t.Fatalf("error %v is not ErrBadPayload", err)
			}
			return
		}
		u, uerr := url.Parse(c.ResponseURL)
		if !state.ValidApprovalID(c.Approval) || (c.Decision != state.DecisionApply && c.Decision != state.DecisionDismiss) ||
			!userID.MatchString(c.User) || uerr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			t.Fatalf("accepted an unsafe click %+v", c)
		}
	})
}
