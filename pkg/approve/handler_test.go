package approve

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/slack-go/slack"

	"github.com/pullmedic/pullmedic/pkg/fix"
	"github.com/pullmedic/pullmedic/pkg/notify"
	"github.com/pullmedic/pullmedic/pkg/state"
)

const testSecret = "3f1c9a0d5e7b2a4c6e8f0a1b3c5d7e9f"

var now = time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)

// storedRequest is what diagnose stores: the event and the plan it saw.
const storedRequest = `{"event":{"version":"0","id":"ev-1","detail-type":"ECS Task State Change","source":"aws.ecs","account":"123456789012",` +
	`"time":"2026-11-25T13:50:00Z","region":"us-east-1","resources":["arn:aws:ecs:us-east-1:123456789012:task/prod/abc"],` +
	`"detail":{"clusterArn":"arn:aws:ecs:us-east-1:123456789012:cluster/prod","taskArn":"arn:aws:ecs:us-east-1:123456789012:task/prod/abc",` +
	`"lastStatus":"STOPPED","desiredStatus":"STOPPED","group":"service:web","launchType":"FARGATE",` +
	`"taskDefinitionArn":"arn:aws:ecs:us-east-1:123456789012:task-definition/web:3",` +
	`"stoppedReason":"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref: dial tcp 10.0.9.10:443: i/o timeout",` +
	`"containers":[{"name":"web","image":"123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1"}]}},` +
	`"plan":[{"action":"sg-allow-443-from-task","target":"sg-ep"}],"cause":"network.endpoint-sg"}`

// decider is the approval table in memory, with Decide's conditions.
type decider struct {
	approvals map[string]*state.Approval
	decided   int // successful decisions: the writes
	err       error
}

func (d *decider) Decide(_ context.Context, id string, dec state.Decision, by string) (*state.Approval, error) {
	if d.err != nil {
		return nil, d.err
	}
	a, ok := d.approvals[id]
	switch {
	case !ok:
		return nil, state.ErrApprovalNotFound
	case a.Decision != "":
		return a, state.ErrApprovalDecided
	case !a.ValidUntil.After(now):
		return a, state.ErrApprovalExpired
	}
	at := now
	a.Decision, a.DecidedBy, a.DecidedAt = dec, by, &at
	d.decided++
	return a, nil
}

func (d *decider) Undecide(_ context.Context, id, by string) error {
	if a := d.approvals[id]; a != nil && a.DecidedBy == by {
		a.Decision, a.DecidedBy, a.DecidedAt = "", "", nil
		d.decided--
	}
	return nil
}

type invoker struct {
	payloads [][]byte
	err      error
}

func (i *invoker) Invoke(_ context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	if i.err != nil {
		return nil, i.err
	}
	if in.InvocationType != "Event" || aws.ToString(in.FunctionName) != "remediate" {
		return nil, errors.New("not an asynchronous invocation of remediate")
	}
	i.payloads = append(i.payloads, in.Payload)
	return &lambda.InvokeOutput{StatusCode: 202}, nil
}

type poster struct{ msgs []*slack.WebhookMessage }

func (p *poster) Post(_ context.Context, url string, msg *slack.WebhookMessage) error {
	if !strings.HasPrefix(url, notify.SlackResponseURLPrefix) {
		return errors.New("posted outside Slack: " + url)
	}
	p.msgs = append(p.msgs, msg)
	return nil
}

// text is what a reply says, all blocks included.
func text(m *slack.WebhookMessage) string {
	j, _ := json.Marshal(m)
	return string(j)
}

// signed is the Function URL event of a click signed at stamp.
func signed(body []byte, stamp time.Time, secret string) events.LambdaFunctionURLRequest {
	ts := strconv.FormatInt(stamp.Unix(), 10)
	return events.LambdaFunctionURLRequest{
		Version: "2.0", RawPath: "/",
		Headers: map[string]string{
			"content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": ts,
			"x-slack-signature": "v0=" + hex.EncodeToString(Sign(secret, ts, body)),
		},
		RequestContext: events.LambdaFunctionURLRequestContext{RequestID: "r-1", HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: "POST"}},
		Body:           base64.StdEncoding.EncodeToString(body), IsBase64Encoded: true,
	}
}

func TestHandle(t *testing.T) {
	apply := formBody(clickPayload(nil))
	dismiss := formBody(clickPayload(func(p map[string]any) { action(p)["action_id"] = notify.ActionDismiss }))
	other := formBody(clickPayload(func(p map[string]any) { p["user"] = map[string]any{"id": "U0STRANGER"} }))
	unknown := formBody(clickPayload(func(p map[string]any) { action(p)["value"] = state.ApprovalID("nope") }))
	cases := []struct {
		name    string
		req     events.LambdaFunctionURLRequest
		stored  *state.Approval // the approval under testApproval; nil: none
		table   error           // Decide fails
		invoke  error           // Invoke fails
		status  int
		answer  string // in the HTTP answer
		reply   string // in the one response_url post; "" for none
		decided int    // decisions standing at the end
		invoked int
	}{
		{name: "apply", req: signed(apply, now, testSecret), status: 200, answer: "applying", reply: "Applying the fix", decided: 1, invoked: 1},
		{name: "dismiss", req: signed(dismiss, now, testSecret), status: 200, answer: "dismissed", reply: "Dismissed by \\u003c@U0APPROVER\\u003e", decided: 1},
		{name: "unsigned", req: func() events.LambdaFunctionURLRequest {
			r := signed(apply, now, testSecret)
			delete(r.Headers, "x-slack-signature")
			return r
		}(), status: 401, answer: "unsigned request"},
		{name: "wrongly signed", req: signed(apply, now, "another-secret"), status: 401, answer: "wrong signature"},
		{name: "stale: signed 6 minutes ago", req: signed(apply, now.Add(-6*time.Minute), testSecret), status: 401, answer: "stale request: its timestamp is 6m0s from now"},
		{name: "headers in another case", req: func() events.LambdaFunctionURLRequest {
			r := signed(apply, now, testSecret)
			r.Headers["X-Slack-Signature"], r.Headers["X-Slack-Request-Timestamp"] = r.Headers["x-slack-signature"], r.Headers["x-slack-request-timestamp"]
			delete(r.Headers, "x-slack-signature")
			delete(r.Headers, "x-slack-request-timestamp")
			return r
		}(), status: 200, answer: "applying", reply: "Applying", decided: 1, invoked: 1},
		{name: "a plain-text body", req: func() events.LambdaFunctionURLRequest {
			r := signed(apply, now, testSecret)
			r.Body, r.IsBase64Encoded = string(apply), false
			return r
		}(), status: 200, answer: "applying", reply: "Applying", decided: 1, invoked: 1},
		{name: "bad base64", req: func() events.LambdaFunctionURLRequest {
			r := signed(apply, now, testSecret)
			r.Body = "%%%"
			return r
		}(), status: 400, answer: "does not decode"},
		{name: "a GET", req: func() events.LambdaFunctionURLRequest {
			r := signed(apply, now, testSecret)
			r.RequestContext.HTTP.Method = "GET"
			return r
		}(), status: 405, answer: "POST"},
		{name: "signed, but not a click", req: signed([]byte("payload=%7B%22type%22%3A%22view_closed%22%7D"), now, testSecret), status: 400, answer: "view_closed"},
		{name: "signed, response_url elsewhere", req: signed(formBody(clickPayload(func(p map[string]any) { p["response_url"] = "https://evil.example/x" })), now, testSecret),
			status: 400, answer: "not under https://hooks.slack.com/"},
		{name: "not an approver", req: signed(other, now, testSecret), status: 200, answer: "U0STRANGER is not an approver", reply: "is not an approver"},
		{name: "replayed: already approved", req: signed(apply, now, testSecret),
			stored: &state.Approval{ValidUntil: now.Add(time.Hour), Decision: state.DecisionApply, DecidedBy: "U0OTHER"},
			status: 200, answer: "already approved by U0OTHER", reply: "Already approved by \\u003c@U0OTHER\\u003e", decided: 1},
		{name: "dismissed before", req: signed(apply, now, testSecret),
			stored: &state.Approval{ValidUntil: now.Add(time.Hour), Decision: state.DecisionDismiss, DecidedBy: "U0OTHER"},
			status: 200, answer: "already dismissed", reply: "Already dismissed", decided: 1},
		{name: "expired", req: signed(apply, now, testSecret), stored: &state.Approval{ValidUntil: now.Add(-time.Minute)},
			status: 200, answer: "expired at 2026-11-25T13:59:00Z", reply: "Expired"},
		{name: "unknown approval", req: signed(unknown, now, testSecret), status: 200, answer: "unknown approval", reply: "not known to pullmedic"},
		{name: "table down", req: signed(apply, now, testSecret), table: errors.New("throttled"), status: 500, answer: "could not be recorded"},
		{name: "remediate cannot be invoked", req: signed(apply, now, testSecret), invoke: errors.New("TooManyRequestsException"),
			status: 502, answer: "could not be started", reply: "Could not start the fix"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stored := &state.Approval{ValidUntil: now.Add(time.Hour)}
			if tc.stored != nil {
				stored = tc.stored
			}
			stored.ID, stored.Request, stored.Cluster, stored.Group, stored.Cause = testApproval, storedRequest, "prod", "service:web", "network.endpoint-sg"
			d := &decider{approvals: map[string]*state.Approval{testApproval: stored}, err: tc.table}
			if stored.Decision != "" {
				d.decided = 1
			}
			inv, slk := &invoker{err: tc.invoke}, &poster{}
			h := &Handler{
				Secret:    func(context.Context) (string, error) { return testSecret, nil },
				Approvals: d, Invoker: inv, Remediate: "remediate", Approvers: []string{"U0APPROVER", "U0OTHER"},
				Slack: slk, Now: func() time.Time { return now },
			}
			res, err := h.Handle(context.Background(), tc.req)
			if err != nil {
				t.Fatalf("Handle returned an error: %v", err)
			}
			if res.StatusCode != tc.status || !strings.Contains(res.Body, tc.answer) {
				t.Errorf("answer %d %q, want %d containing %q", res.StatusCode, res.Body, tc.status, tc.answer)
			}
			if d.decided != tc.decided || len(inv.payloads) != tc.invoked {
				t.Errorf("%d decisions standing, %d invocations; want %d and %d", d.decided, len(inv.payloads), tc.decided, tc.invoked)
			}
			if tc.reply == "" {
				if len(slk.msgs) != 0 {
					t.Errorf("replied %s, want no reply", text(slk.msgs[0]))
				}
			} else if last := slk.msgs[len(slk.msgs)-1]; len(slk.msgs) == 0 || !strings.Contains(text(last), tc.reply) {
				t.Errorf("last reply %s, want one saying %q", text(last), tc.reply)
			}
			for _, p := range inv.payloads {
				req, _, err := fix.DecodeRequest(p)
				if err != nil {
					t.Fatalf("remediate gets a request it refuses: %v", err)
				}
				if req.ApprovedBy != "slack:U0APPROVER" || req.ResponseURL != "https://hooks.slack.com/actions/T0TEAM/1/abc" ||
					req.Cause != "network.endpoint-sg" || len(req.Plan) != 1 {
					t.Errorf("remediate request %s", p)
				}
			}
		})
	}
}

// Replies that change the message replace it; those that decide nothing
// are for the clicker's eyes only, and leave it as it was.
func TestRepliesReplaceOnlyWhenDecided(t *testing.T) {
	d := &decider{approvals: map[string]*state.Approval{testApproval: {ID: testApproval, Request: storedRequest, ValidUntil: now.Add(time.Hour)}}}
	slk := &poster{}
	h := &Handler{
		Secret:    func(context.Context) (string, error) { return testSecret, nil },
		Approvals: d, Invoker: &invoker{}, Remediate: "remediate", Approvers: []string{"U0APPROVER"}, Slack: slk,
		Now: func() time.Time { return now },
	}
	for range 2 { // a click, then its replay
		if _, err := h.Handle(context.Background(), signed(formBody(clickPayload(nil)), now, testSecret)); err != nil {
			t.Fatal(err)
		}
	}
	if len(slk.msgs) != 2 || !slk.msgs[0].ReplaceOriginal || slk.msgs[1].ReplaceOriginal || slk.msgs[1].ResponseType != slack.ResponseTypeEphemeral {
		for _, m := range slk.msgs {
			t.Logf("reply: %s", text(m))
		}
		t.Error("want two replies: the click's replacing the message, the replay's ephemeral")
	}
}

func TestSecretUnreadable(t *testing.T) {
	h := &Handler{Secret: func(context.Context) (string, error) { return "", errors.New("AccessDenied") }, Slack: &poster{}}
	res, _ := h.Handle(context.Background(), signed(formBody(clickPayload(nil)), now, testSecret))
	if res.StatusCode != 500 || !strings.Contains(res.Body, "signing secret could not be read") || strings.Contains(res.Body, "AccessDenied") {
		t.Errorf("answer %d %q, want 500 naming the signing secret without the error's detail", res.StatusCode, res.Body)
	}
}
