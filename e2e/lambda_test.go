package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pullmedic/pullmedic/internal/motoserver"
	"github.com/pullmedic/pullmedic/pkg/fix"
	"github.com/pullmedic/pullmedic/pkg/report"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

// An event in gives a message out, through the real Lambda runtime contract:
// EventBridge's event is POSTed to the diagnose bootstrap under RIE, which
// reads moto, publishes to SNS (read back through a subscribed SQS queue),
// posts to Slack (a local server), and hands the plan to remediate through the
// Lambda Invoke API (a local stand-in that runs the remediate bootstrap under
// its own RIE), which changes the security group in moto.

const remediateName = "pullmedic-remediate"

// stack is both functions under RIE, wired to one world, Slack and the Lambda
// API; each function reaches moto through its own recording proxy.
type stack struct {
	w                         *world
	slack                     *recorder
	lambdaAPI                 *lambdaAPI
	diagnose, remediate       *function
	diagnoseAWS, remediateAWS *awsProxy
}

func newStack(t *testing.T, autoFix string) *stack {
	t.Helper()
	s := &stack{slack: newRecorder(t)}
	s.w = newWorld(t, autoFix, s.slack.server.URL+"/services/T000/B000/XXXX")
	s.diagnoseAWS, s.remediateAWS = newAWSProxy(t, motoserver.Endpoint(t)), newAWSProxy(t, motoserver.Endpoint(t))
	s.remediate = startFunction(t, "remediate", bootstrap(t, "remediate"), s.w.lambdaEnv(s.remediateAWS.server.URL, map[string]string{
		"MAX_FIXES_PER_DAY": "3", "SLACK_RESPONSE_URL_PREFIX": s.slack.server.URL + "/actions/",
	}))
	s.lambdaAPI = newLambdaAPI(t, s.remediate)
	s.diagnose = startFunction(t, "diagnose", bootstrap(t, "diagnose"), s.w.lambdaEnv(s.diagnoseAWS.server.URL, map[string]string{
		"AWS_ENDPOINT_URL_LAMBDA": s.lambdaAPI.server.URL,
		"SLACK_SECRET_ARN":        s.w.slackSecret, "REMEDIATE_FUNCTION": remediateName, "DEDUPE_WINDOW": "30m",
	}))
	return s
}

// assertLeastPrivilege checks every AWS call each function made against its
// role in the template.
func (s *stack) assertLeastPrivilege(t *testing.T) {
	t.Helper()
	diagnosed := s.diagnoseAWS.called()
	if s.lambdaAPI.count() > 0 {
		diagnosed = append(diagnosed, "lambda:InvokeFunction")
	}
	assertGranted(t, "DiagnoseFunction", diagnosed)
	assertGranted(t, "RemediateFunction", s.remediateAWS.called())
}

func TestEventToMessageAndFixUnderRIE(t *testing.T) {
	s := newStack(t, "enabled")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	ev := s.w.stoppedEvent(t, "e2e-"+s.w.name)
	if _, err := s.diagnose.call(ctx, ev); err != nil {
		t.Fatal(err)
	}

	// Remediate ran on the hand-off, asynchronously, as Lambda would run it.
	inv := s.lambdaAPI.next(t, ctx)
	if inv.function != remediateName || inv.invocationType != "Event" {
		t.Errorf("Invoke of %q as %q, want %q as Event", inv.function, inv.invocationType, remediateName)
	}
	var req fix.Request
	if err := json.Unmarshal(inv.payload, &req); err != nil {
		t.Fatalf("remediate payload: %v: %s", err, inv.payload)
	}
	if len(req.Plan) != 1 || req.Plan[0].Action != rules.ActionAllowFromTask || req.Plan[0].Target != s.w.epSG {
		t.Errorf("handed-off plan %+v, want %s on %s", req.Plan, rules.ActionAllowFromTask, s.w.epSG)
	}
	if inv.err != nil {
		t.Fatalf("remediate: %v", inv.err)
	}
	var res fix.Result
	if err := json.Unmarshal(inv.response, &res); err != nil {
		t.Fatalf("remediate response: %v: %s", err, inv.response)
	}
	if res.Outcome != fix.OutcomeChanged || len(res.Actions) != 1 || res.Actions[0].Status != fix.StatusVerified {
		t.Errorf("remediation %s, want one verified change", inv.response)
	}
	if n := s.w.ingressFromTask(t); n != 1 {
		t.Errorf("endpoint group %s has %d rules letting %s in on 443, want 1", s.w.epSG, n, s.w.taskSG)
	}

	// Both documents reached the topic.
	docs := s.w.topicDocuments(t, ctx, 2)
	rep := docs[report.SchemaV1]
	if rep == nil {
		t.Fatalf("no %s on the topic; got %v", report.SchemaV1, keys(docs))
	}
	var r report.Report
	if err := json.Unmarshal(rep, &r); err != nil {
		t.Fatal(err)
	}
	if aws.ToString(r.Cause) != "network.endpoint-sg" || r.Task.SubnetID != s.w.subnet || !r.AutoFix.OptedIn {
		t.Errorf("report: cause %q subnet %q autoFix %+v; want network.endpoint-sg in %s, opted in",
			aws.ToString(r.Cause), r.Task.SubnetID, r.AutoFix, s.w.subnet)
	}
	if docs[fix.SchemaV1] == nil {
		t.Errorf("no %s on the topic", fix.SchemaV1)
	}

	// And Slack got the diagnosis, naming the cause.
	posts := s.slack.requests()
	if len(posts) != 1 || !strings.Contains(string(posts[0]), "network.endpoint-sg") {
		t.Errorf("Slack got %d posts, want 1 naming network.endpoint-sg: %q", len(posts), posts)
	}

	// EventBridge may deliver an event twice: the second is dropped.
	if _, err := s.diagnose.call(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if n := len(s.slack.requests()); n != 1 {
		t.Errorf("after a redelivery Slack got %d posts, want still 1", n)
	}
	if n := s.lambdaAPI.count(); n != 1 {
		t.Errorf("after a redelivery remediate was invoked %d times, want still 1", n)
	}
	s.assertLeastPrivilege(t)
}

// A cluster without the tag is diagnosed and notified, never changed: diagnose
// does not hand off, and remediate, asked directly with a plan, reads the tag
// itself and refuses.
func TestUntaggedClusterIsNeverChangedUnderRIE(t *testing.T) {
	s := newStack(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	ev := s.w.stoppedEvent(t, "e2e-"+s.w.name)
	if _, err := s.diagnose.call(ctx, ev); err != nil {
		t.Fatal(err)
	}
	docs := s.w.topicDocuments(t, ctx, 1)
	var r report.Report
	if err := json.Unmarshal(docs[report.SchemaV1], &r); err != nil {
		t.Fatalf("report on the topic: %v (got %v)", err, keys(docs))
	}
	if aws.ToString(r.Cause) != "network.endpoint-sg" || r.AutoFix.OptedIn || len(r.Plan) != 1 {
		t.Errorf("report: cause %q autoFix %+v plan %d; want network.endpoint-sg, not opted in, one planned fix",
			aws.ToString(r.Cause), r.AutoFix, len(r.Plan))
	}
	if n := len(s.slack.requests()); n != 1 {
		t.Errorf("Slack got %d posts, want 1", n)
	}
	if n := s.lambdaAPI.count(); n != 0 {
		t.Errorf("remediate was invoked %d times for an untagged cluster", n)
	}

	payload, err := json.Marshal(fix.Request{Event: ev, Plan: r.Plan, Cause: aws.ToString(r.Cause)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.remediate.call(ctx, payload)
	if err != nil {
		t.Fatal(err)
	}
	var res fix.Result
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("remediate response: %v: %s", err, out)
	}
	if res.Mode != rules.ModeOff || res.Outcome != fix.OutcomeUnchanged || len(res.Changes) != 0 {
		t.Errorf("remediation of an untagged cluster: %s", out)
	}
	if n := s.w.ingressFromTask(t); n != 0 {
		t.Errorf("endpoint group %s was changed: %d rules from the task's group", s.w.epSG, n)
	}
	s.assertLeastPrivilege(t)
}

// topicDocuments waits for n messages on the topic's queue and returns their
// documents by schema.
func (w *world) topicDocuments(tb testing.TB, ctx context.Context, n int) map[string]json.RawMessage {
	tb.Helper()
	docs := map[string]json.RawMessage{}
	for got := 0; got < n; {
		out, err := w.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &w.queueURL, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			tb.Fatalf("receive from the topic's queue (%d of %d messages so far): %v", got, n, err)
		}
		for _, m := range out.Messages {
			var envelope struct{ Message string }
			var doc struct{ Schema string }
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &envelope); err != nil {
				tb.Fatalf("SNS envelope: %v: %s", err, aws.ToString(m.Body))
			}
			if err := json.Unmarshal([]byte(envelope.Message), &doc); err != nil {
				tb.Fatalf("SNS message: %v: %s", err, envelope.Message)
			}
			docs[doc.Schema] = json.RawMessage(envelope.Message)
			got++
		}
	}
	return docs
}

func keys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// recorder is a local HTTP server that keeps the bodies it is sent.
type recorder struct {
	server *httptest.Server
	mu     sync.Mutex
	bodies [][]byte
}

func newRecorder(tb testing.TB) *recorder {
	r := &recorder{}
	r.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, body)
		r.mu.Unlock()
		fmt.Fprint(w, "ok") // what Slack answers
	}))
	tb.Cleanup(r.server.Close)
	return r
}

func (r *recorder) requests() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.bodies...)
}

// lambdaAPI stands in for the Lambda Invoke API: it accepts an asynchronous
// invocation with 202, as Lambda does, then runs it on the function.
type lambdaAPI struct {
	server *httptest.Server
	done   chan invocation
	mu     sync.Mutex
	n      int
}

type invocation struct {
	function, invocationType string
	payload, response        []byte
	err                      error
}

func newLambdaAPI(tb testing.TB, target *function) *lambdaAPI {
	api := &lambdaAPI{done: make(chan invocation, 8)}
	var running sync.WaitGroup
	api.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// POST /2015-03-31/functions/{FunctionName}/invocations
		parts := strings.Split(req.URL.Path, "/")
		if req.Method != http.MethodPost || len(parts) != 5 || parts[4] != "invocations" {
			http.Error(w, `{"message":"unexpected call"}`, http.StatusNotFound)
			return
		}
		payload, _ := io.ReadAll(req.Body)
		api.mu.Lock()
		api.n++
		api.mu.Unlock()
		inv := invocation{function: parts[3], invocationType: req.Header.Get("X-Amz-Invocation-Type"), payload: payload}
		w.WriteHeader(http.StatusAccepted)
		running.Go(func() {
			inv.response, inv.err = target.call(context.Background(), payload)
			api.done <- inv
		})
	}))
	tb.Cleanup(func() {
		api.server.Close()
		running.Wait()
	})
	return api
}

// next waits for the next invocation to finish on the function.
func (a *lambdaAPI) next(tb testing.TB, ctx context.Context) invocation {
	tb.Helper()
	select {
	case inv := <-a.done:
		return inv
	case <-ctx.Done():
		tb.Fatalf("remediate was not invoked: %v", ctx.Err())
		return invocation{}
	}
}

func (a *lambdaAPI) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}
