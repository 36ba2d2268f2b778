package e2e

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pullmedic/pullmedic/internal/motoserver"
	"github.com/pullmedic/pullmedic/pkg/approve"
	"github.com/pullmedic/pullmedic/pkg/fix"
	"github.com/pullmedic/pullmedic/pkg/notify"
)

// Approve mode through the real Lambda runtime contract: the cluster is
// tagged pullmedic:auto-fix=approve; diagnose (under RIE) posts the plan to
// Slack (a local server) with buttons and invokes nothing; a click, signed
// as Slack signs it, reaches the approve bootstrap under its own RIE as a
// Function URL event; approve hands the approved request to remediate (under
// RIE, through a local Lambda API), which changes the security group in moto
// and replaces the Slack message through the click's response_url (the same
// local server).

const (
	signingSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	approver      = "U0APPROVER"
)

// approveStack is the stack with the approve function beside it.
type approveStack struct {
	*stack
	approve    *function
	approveAWS *awsProxy
	approveAPI *lambdaAPI // the Lambda API approve invokes remediate through
	approval   string     // the ID the buttons of the diagnosis carry
}

func newApproveStack(t *testing.T, ctx context.Context) *approveStack {
	t.Helper()
	s := &approveStack{stack: newStack(t, "approve")}
	secret := aws.ToString(seeded[*secretsmanager.CreateSecretOutput](t, "signing secret")(secretsmanager.NewFromConfig(s.w.cfg).CreateSecret(ctx,
		&secretsmanager.CreateSecretInput{Name: aws.String(s.w.name + "/slack-signing"), SecretString: aws.String(signingSecret)})).ARN)
	s.approveAWS = newAWSProxy(t, motoserver.Endpoint(t))
	s.approveAPI = newLambdaAPI(t, s.remediate)
	s.approve = startFunction(t, "approve", bootstrap(t, "approve"), s.w.lambdaEnv(s.approveAWS.server.URL, map[string]string{
		"AWS_ENDPOINT_URL_LAMBDA": s.approveAPI.server.URL, "REMEDIATE_FUNCTION": remediateName,
		"SLACK_SIGNING_SECRET_ARN": secret, "SLACK_APPROVERS": "U0OTHER," + approver,
		"SLACK_RESPONSE_URL_PREFIX": s.slack.server.URL + "/actions/",
	}))

	// The failure is diagnosed and posted with buttons; remediate is not invoked.
	if _, err := s.diagnose.call(ctx, s.w.stoppedEvent(t, "e2e-"+s.w.name)); err != nil {
		t.Fatal(err)
	}
	posts := s.slack.requests()
	if len(posts) != 1 || !strings.Contains(string(posts[0]), notify.ActionApply) || !strings.Contains(string(posts[0]), "network.endpoint-sg") {
		t.Fatalf("Slack got %q, want one diagnosis with the Apply fix button", posts)
	}
	s.approval = regexp.MustCompile(`apr-[0-9a-f]{24}`).FindString(string(posts[0]))
	if n := s.lambdaAPI.count(); n != 0 {
		t.Fatalf("diagnose invoked remediate %d times in approve mode", n)
	}
	return s
}

// click is a button click as Slack sends it to the Function URL: the
// form-encoded block_actions payload, signed at stamp with secret ("" for
// no signature), as the Function URL event Lambda makes of it.
func (s *approveStack) click(t *testing.T, user, action string, stamp time.Time, secret string) []byte {
	t.Helper()
	payload, err := json.Marshal(map[string]any{
		"type": "block_actions", "user": map[string]any{"id": user, "username": strings.ToLower(user)},
		"team": map[string]any{"id": "T0TEAM"}, "trigger_id": "1.2.3", "api_app_id": "A0APP",
		"response_url": s.slack.server.URL + "/actions/T0TEAM/1/" + s.w.name,
		"actions": []any{map[string]any{"type": "button", "action_id": action, "block_id": notify.ApprovalBlockID,
			"value": s.approval, "action_ts": strconv.FormatInt(stamp.Unix(), 10) + ".000100"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(url.Values{"payload": {string(payload)}}.Encode())
	ts := strconv.FormatInt(stamp.Unix(), 10)
	headers := map[string]string{"content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": ts}
	if secret != "" {
		headers["x-slack-signature"] = "v0=" + hex.EncodeToString(approve.Sign(secret, ts, body))
	}
	ev, err := json.Marshal(events.LambdaFunctionURLRequest{
		Version: "2.0", RawPath: "/", Headers: headers,
		RequestContext: events.LambdaFunctionURLRequestContext{RequestID: "req-" + ts, HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: "POST", SourceIP: "192.0.2.1"}},
		Body:           base64.StdEncoding.EncodeToString(body), IsBase64Encoded: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// send posts a click event to the approve function and returns its answer.
func (s *approveStack) send(t *testing.T, ctx context.Context, ev []byte) events.LambdaFunctionURLResponse {
	t.Helper()
	out, err := s.approve.call(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	var res events.LambdaFunctionURLResponse
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("approve answered %s: %v", out, err)
	}
	return res
}

// repliesSince returns the Slack posts after the first n, as text.
func (s *approveStack) repliesSince(n int) []string {
	var out []string
	for _, p := range s.slack.requests()[n:] {
		out = append(out, string(p))
	}
	return out
}

func TestApproveClickUnderRIE(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := newApproveStack(t, ctx)
	now := time.Now()
	valid := s.click(t, approver, notify.ActionApply, now, signingSecret)

	// Each of these changes nothing: no decision, no invocation, no rule.
	refused := []struct {
		name   string
		ev     []byte
		status int
		answer string
		reply  string // the ephemeral reply the clicker sees; "" for none
	}{
		{"unsigned", s.click(t, approver, notify.ActionApply, now, ""), 401, "unsigned request", ""},
		{"wrongly signed", s.click(t, approver, notify.ActionApply, now, "0000000000000000abcd99yyyzzz85a5"), 401, "wrong signature", ""},
		{"stale: signed 6 minutes ago", s.click(t, approver, notify.ActionApply, now.Add(-6*time.Minute), signingSecret), 401, "stale request", ""},
		{"not an approver", s.click(t, "U0STRANGER", notify.ActionApply, now, signingSecret), 200, "U0STRANGER is not an approver", "is not an approver"},
	}
	for _, tc := range refused {
		before := len(s.slack.requests())
		res := s.send(t, ctx, tc.ev)
		if res.StatusCode != tc.status || !strings.Contains(res.Body, tc.answer) || !strings.Contains(res.Body, "nothing was changed") {
			t.Errorf("%s: answered %d %q, want %d saying %q and that nothing was changed", tc.name, res.StatusCode, res.Body, tc.status, tc.answer)
		}
		replies := s.repliesSince(before)
		switch {
		case tc.reply == "" && len(replies) != 0:
			t.Errorf("%s: replied %q in Slack, want nothing", tc.name, replies)
		case tc.reply != "" && (len(replies) != 1 || !strings.Contains(replies[0], tc.reply) || !strings.Contains(replies[0], `"response_type":"ephemeral"`)):
			t.Errorf("%s: replied %q, want one ephemeral %q", tc.name, replies, tc.reply)
		}
		if n := s.approveAPI.count(); n != 0 {
			t.Fatalf("%s: remediate invoked %d times", tc.name, n)
		}
		if n := s.w.ingressFromTask(t); n != 0 {
			t.Fatalf("%s: endpoint group changed (%d rules)", tc.name, n)
		}
	}

	// The approver's signed click applies the fix, once.
	before := len(s.slack.requests())
	if res := s.send(t, ctx, valid); res.StatusCode != 200 || !strings.Contains(res.Body, "applying approval "+s.approval) {
		t.Fatalf("approve answered %d %q", res.StatusCode, res.Body)
	}
	inv := s.approveAPI.next(t, ctx)
	if inv.invocationType != "Event" || inv.function != remediateName || inv.err != nil {
		t.Fatalf("invocation of %s as %s: %v", inv.function, inv.invocationType, inv.err)
	}
	var req fix.Request
	if err := json.Unmarshal(inv.payload, &req); err != nil || req.ApprovedBy != "slack:"+approver {
		t.Fatalf("remediate request %s (%v), want one approved by %s", inv.payload, err, approver)
	}
	var res fix.Result
	if err := json.Unmarshal(inv.response, &res); err != nil || res.Outcome != fix.OutcomeChanged || len(res.Changes) != 1 ||
		res.Changes[0].Why.ApprovedBy != "slack:"+approver {
		t.Fatalf("remediation %s (%v), want one change approved by %s", inv.response, err, approver)
	}
	if n := s.w.ingressFromTask(t); n != 1 {
		t.Errorf("endpoint group %s has %d rules from the task's group, want 1", s.w.epSG, n)
	}
	replies := s.repliesSince(before)
	if len(replies) != 2 || !strings.Contains(replies[0], "Applying the fix") || !strings.Contains(replies[1], "*Fixed*") ||
		!strings.Contains(replies[1], `"replace_original":true`) || !strings.Contains(replies[1], res.Changes[0].ChangeID) {
		t.Errorf("Slack replies %q, want applying, then the fix with its change replacing the message", replies)
	}

	// Replayed within the five minutes, the same signed request decides nothing.
	before = len(s.slack.requests())
	if res := s.send(t, ctx, valid); res.StatusCode != 200 || !strings.Contains(res.Body, "already approved by "+approver) {
		t.Errorf("replay answered %d %q", res.StatusCode, res.Body)
	}
	if replies := s.repliesSince(before); len(replies) != 1 || !strings.Contains(replies[0], "Already approved") || strings.Contains(replies[0], `"replace_original":true`) {
		t.Errorf("replay replied %q, want one ephemeral 'Already approved'", replies)
	}
	if n, rules := s.approveAPI.count(), s.w.ingressFromTask(t); n != 1 || rules != 1 {
		t.Errorf("after the replay: %d invocations, %d rules; want still 1 and 1", n, rules)
	}
	s.assertLeastPrivilege(t)
}

// Someone fixed it by hand between the post and the click: remediate finds
// nothing left to do, changes nothing, and says so in place.
func TestApprovedPlanThatNoLongerHoldsUnderRIE(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := newApproveStack(t, ctx)
	seeded[*ec2.AuthorizeSecurityGroupIngressOutput](t, "the fix by hand")(s.w.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: &s.w.epSG, IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
			UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: &s.w.taskSG, Description: aws.String("by hand")}}}}}))

	before := len(s.slack.requests())
	if res := s.send(t, ctx, s.click(t, approver, notify.ActionApply, time.Now(), signingSecret)); res.StatusCode != 200 {
		t.Fatalf("approve answered %d %q", res.StatusCode, res.Body)
	}
	inv := s.approveAPI.next(t, ctx)
	var res fix.Result
	if err := json.Unmarshal(inv.response, &res); err != nil || res.Outcome != fix.OutcomeUnchanged || len(res.Changes) != 0 {
		t.Fatalf("remediation %s (%v), want unchanged", inv.response, err)
	}
	if n := s.w.ingressFromTask(t); n != 1 {
		t.Errorf("endpoint group has %d rules from the task's group, want only the one made by hand", n)
	}
	replies := s.repliesSince(before)
	if len(replies) != 2 || !strings.Contains(replies[1], "Nothing left to do") || !strings.Contains(replies[1], `"replace_original":true`) {
		t.Errorf("Slack replies %q, want applying, then 'Nothing left to do' in place", replies)
	}
	s.assertLeastPrivilege(t)
}

// assertLeastPrivilege checks the approve function's calls against its role,
// besides diagnose's and remediate's.
func (s *approveStack) assertLeastPrivilege(t *testing.T) {
	t.Helper()
	s.stack.assertLeastPrivilege(t)
	called := s.approveAWS.called()
	if s.approveAPI.count() > 0 {
		called = append(called, "lambda:InvokeFunction")
	}
	assertGranted(t, "ApproveFunction", called)
}
