package approve

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"

	"github.com/pullmedic/pullmedic/pkg/notify"
	"github.com/pullmedic/pullmedic/pkg/state"
)

// A click on a Block Kit button reaches the interactivity Request URL as an
// application/x-www-form-urlencoded POST whose "payload" parameter is JSON of
// type "block_actions": who clicked, the actions (the button's action_id,
// block_id and value) and the response_url that updates the message.
// https://api.slack.com/interactivity/handling
// https://docs.slack.dev/reference/interaction-payloads/block_actions-payload

// Click is one person's click on an approval button.
type Click struct {
	Approval string         // the approval ID the button carries
	Decision state.Decision // apply or dismiss
	User     string         // the clicker's Slack user ID
	Name     string         // their user name, for the log
	// ResponseURL updates the message clicked (for 30 minutes, five times).
	ResponseURL string
}

// ErrBadPayload is a request that is not one click on a pullmedic button.
var ErrBadPayload = errors.New("not a click on a pullmedic approval button")

// blockActions is the part of a block_actions payload pullmedic reads.
type blockActions struct {
	Type string `json:"type"`
	User struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	} `json:"user"`
	ResponseURL string `json:"response_url"`
	Actions     []struct {
		ActionID string `json:"action_id"`
		BlockID  string `json:"block_id"`
		Value    string `json:"value"`
	} `json:"actions"`
}

// userID is a Slack user ID: U (or W, on Enterprise Grid) and capitals and digits.
var userID = regexp.MustCompile(`^[UW][A-Z0-9]{2,31}$`)

var decisions = map[string]state.Decision{notify.ActionApply: state.DecisionApply, notify.ActionDismiss: state.DecisionDismiss}

// ParseClick reads a verified request body. Anything but one click on an
// approval button, from a user, with a response_url, is ErrBadPayload with
// the reason.
func ParseClick(body []byte) (*Click, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("%w: the body is not form-encoded: %v", ErrBadPayload, err)
	}
	if len(form["payload"]) != 1 {
		return nil, fmt.Errorf("%w: want one \"payload\" parameter, got %d", ErrBadPayload, len(form["payload"]))
	}
	var p blockActions
	if err := json.Unmarshal([]byte(form.Get("payload")), &p); err != nil {
		return nil, fmt.Errorf("%w: the payload is not JSON: %v", ErrBadPayload, err)
	}
	if p.Type != "block_actions" {
		return nil, fmt.Errorf("%w: payload type %q, want block_actions", ErrBadPayload, p.Type)
	}
	if len(p.Actions) != 1 {
		return nil, fmt.Errorf("%w: %d actions, want 1", ErrBadPayload, len(p.Actions))
	}
	a := p.Actions[0]
	d, ok := decisions[a.ActionID]
	if !ok || a.BlockID != notify.ApprovalBlockID {
		return nil, fmt.Errorf("%w: action %q in block %q", ErrBadPayload, a.ActionID, a.BlockID)
	}
	if !state.ValidApprovalID(a.Value) {
		return nil, fmt.Errorf("%w: the button's value is not an approval ID", ErrBadPayload)
	}
	if !userID.MatchString(p.User.ID) {
		return nil, fmt.Errorf("%w: user.id %q is not a Slack user ID", ErrBadPayload, p.User.ID)
	}
	u, err := url.Parse(p.ResponseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%w: response_url is not an http(s) URL", ErrBadPayload)
	}
	return &Click{Approval: a.Value, Decision: d, User: p.User.ID, Name: p.User.Username, ResponseURL: p.ResponseURL}, nil
}
