package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/pullmedic/pullmedic/pkg/report"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

func TestClip(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		limit int
		want  string // the start of the result
		cut   bool
	}{
		{"short stays", "i/o timeout", 100, "i/o timeout", false},
		{"exact fit stays", strings.Repeat("a", 100), 100, strings.Repeat("a", 100), false},
		{"long is cut with a count", strings.Repeat("a", 1000), 100, "aaaa", true},
		{"multibyte runes are not split", strings.Repeat("ü", 500), 101, "üü", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Clip(tc.in, tc.limit)
			if len(got) > tc.limit || !utf8.ValidString(got) || !strings.HasPrefix(got, tc.want) {
				t.Fatalf("clip = %q (%d bytes); want at most %d valid bytes starting %q", got, len(got), tc.limit, tc.want)
			}
			if !tc.cut {
				if got != tc.in {
					t.Errorf("clip changed a text that fits: %q", got)
				}
				return
			}
			kept, marker, ok := strings.Cut(got, "… [truncated ")
			if !ok || marker != fmt.Sprintf("%d bytes]", len(tc.in)-len(kept)) {
				t.Errorf("clip = %q; want the kept text and a marker counting the %d bytes cut", got, len(tc.in)-len(kept))
			}
		})
	}
}

// hugeReason is a stop reason of 300 KB, with the characters JSON and Slack escape.
var hugeReason = "CannotPullContainerError: " + strings.Repeat(`layer "sha256:<ab>" & ü; `, 300*1024/26)

// manyFailing is a report with n failing findings, each with long texts,
// a long evidence chain and a large evidence document, and a plan step each.
func manyFailing(n int) *report.Report {
	r := &report.Report{Schema: report.SchemaV1, Task: report.Task{TaskArn: "arn:aws:ecs:eu-west-1:111122223333:task/shop/abc",
		Images: []string{"111122223333.dkr.ecr.eu-west-1.amazonaws.com/web:1"}, StoppedReason: "CannotPullContainerError: i/o timeout"},
		Cause: aws.String("test.rule-00"), Plan: []rules.Step{}, AutoFix: rules.OptIn{Mode: rules.ModeOff, Actions: []string{}}}
	var chain []string
	for i := range 100 {
		chain = append(chain, fmt.Sprintf("hop %03d %s", i, strings.Repeat("→", 30)))
	}
	for i := range n {
		id := fmt.Sprintf("test.rule-%02d", i)
		r.Findings = append(r.Findings, rules.Finding{Rule: id, Status: rules.Fail, Severity: rules.High,
			Message: strings.Repeat("The endpoint policy denies it. ", 100), Advice: strings.Repeat("aws ec2 modify-vpc-endpoint ... ", 150),
			Evidence: map[string]any{"chain": chain, "policy": strings.Repeat(`{"Effect":"Deny"}`, 1200)}})
		r.Plan = append(r.Plan, rules.Step{Action: rules.ActionAllowFromTask, Target: fmt.Sprintf("sg-%017d", i)})
	}
	return r
}

// unreadable is an inconclusive report with n rules in error, each with a long reason.
func unreadable(n int) *report.Report {
	r := manyFailing(0)
	r.Cause, r.Inconclusive = nil, true
	for i := range n {
		f := rules.Finding{Rule: fmt.Sprintf("test.rule-%02d", i), Status: rules.Error, Severity: rules.High,
			Message: "could not be evaluated: " + strings.Repeat("ThrottlingException: Rate exceeded; ", 100)}
		r.Findings = append(r.Findings, f)
		r.Unchecked = append(r.Unchecked, report.Unchecked{Rule: f.Rule, Reason: f.Message})
	}
	return r
}

// Oversized diagnoses still reach SNS and Slack, within their limits, and
// say they were cut.
func TestOversizedNoticesFit(t *testing.T) {
	withReason := func(name string) func(t *testing.T) *report.Report {
		return func(t *testing.T) *report.Report {
			r := loadReport(t, name)
			r.Task.StoppedReason = hugeReason
			return r
		}
	}
	tests := []struct {
		name   string
		report func(t *testing.T) *report.Report
		kind   Kind
		slack  []string // what the Slack message must show
	}{
		{"300 KB stop reason", withReason("public-ip"), Problem, []string{"[truncated "}},
		{"300 KB stop reason, no cause", withReason("healthy"), StillFailing, []string{"[truncated "}},
		{"300 KB stop reason, resolved", withReason("healthy"), Resolved, nil},
		{"80 failing findings", func(*testing.T) *report.Report { return manyFailing(80) }, Problem, []string{"[truncated ", "more cut]"}},
		{"80 rules could not be read", func(*testing.T) *report.Report { return unreadable(80) }, Problem, []string{"could not check: 80 rules", "more cut]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := &Notice{Kind: tc.kind, Report: tc.report(t), Region: "eu-west-1", Cluster: "shop", Group: "service:web", Time: t0}
			if tc.kind == Resolved {
				n.Cause, n.Reason = "network.route", "a new diagnosis finds nothing failing"
			}
			in, err := PublishInput("arn:aws:sns:eu-west-1:111122223333:pullmedic", n)
			if err != nil {
				t.Fatal(err)
			}
			size := len(aws.ToString(in.Message))
			for k, v := range in.MessageAttributes {
				size += len(k) + len(aws.ToString(v.DataType)) + len(aws.ToString(v.StringValue))
			}
			if size >= 256*1024 {
				t.Errorf("SNS message of %d bytes; SNS takes less than %d", size, 256*1024)
			}
			var msg map[string]string
			if err := json.Unmarshal([]byte(aws.ToString(in.Message)), &msg); err != nil {
				t.Fatalf("message is not JSON: %v", err)
			}
			var doc struct {
				Report    *report.Report
				Truncated string
			}
			if err := json.Unmarshal([]byte(msg["default"]), &doc); err != nil {
				t.Fatalf("document is not JSON: %v", err)
			}
			cut := doc.Truncated
			if doc.Report != nil { // a resolved notice carries the report inside
				cut = doc.Report.Truncated
			}
			t.Logf("SNS message with attributes: %d bytes; cut %s", size, cut)
			if !strings.HasPrefix(cut, "to fit SNS") || !strings.Contains(msg["default"], "[truncated ") {
				t.Errorf("the document does not say it was cut: truncated %q", cut)
			}
			email := msg["email"]
			if !strings.HasPrefix(email, n.Headline()+"\n") || len(email) > emailMax+4096 {
				t.Errorf("email of %d bytes starting %.100q", len(email), email)
			}
			if tc.kind != Resolved && !strings.Contains(email, "[truncated ") {
				t.Errorf("the email does not show the cut:\n%.2000s", email)
			}

			body, err := json.Marshal(SlackMessage(n))
			if err != nil {
				t.Fatal(err)
			}
			checkBlockKitLimits(t, body)
			var text strings.Builder // the Slack message as a person reads it
			var m struct{ Blocks []json.RawMessage }
			_ = json.Unmarshal(body, &m)
			for _, b := range m.Blocks {
				text.Write(b)
			}
			for _, want := range tc.slack {
				if !strings.Contains(text.String(), want) {
					t.Errorf("Slack message lacks %q", want)
				}
			}
		})
	}
}

func TestPublishInputRefusesWhatCannotFit(t *testing.T) {
	r := manyFailing(1)
	for i := range 5000 {
		r.Plan = append(r.Plan, rules.Step{Action: rules.ActionAllowFromTask, Target: fmt.Sprintf("sg-%0100d", i)})
	}
	_, err := PublishInput("arn:topic", &Notice{Kind: Problem, Report: r, Cluster: "shop", Group: "service:web"})
	if err == nil || !strings.Contains(err.Error(), "even cut to the cause") {
		t.Errorf("PublishInput = %v; want an error, not a message SNS refuses", err)
	}
}

// A Slack that accepts the connection and never answers must not hold the
// function: each post has its own deadline.
func TestSlackHangIsBounded(t *testing.T) {
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request)
		wantErr bool
		posts   int32
	}{
		{"never answers", func(http.ResponseWriter, *http.Request) {}, true, 2},
		{"answers, then never ends the body", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
		}, false, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var posts atomic.Int32
			release := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				posts.Add(1)
				// Read the body, so that the server notices the client leave.
				_, _ = io.Copy(io.Discard, r.Body)
				tc.handler(w, r)
				select { // hang until the client gives up, or the test ends
				case <-r.Context().Done():
				case <-release:
				}
			}))
			t.Cleanup(srv.Close)
			t.Cleanup(func() { close(release) }) // runs first: Close waits for the handlers
			s := &Slack{URL: func(context.Context) (string, error) { return srv.URL, nil },
				Attempts: 2, Backoff: time.Millisecond, Timeout: 200 * time.Millisecond}
			// The test's own bound: far above two timeouts, far below a hang.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			start := time.Now()
			err := s.Notify(ctx, &Notice{Kind: Problem, Cluster: "prod", Group: "service:web", Time: t0})
			took := time.Since(start)
			if (err != nil) != tc.wantErr || posts.Load() != tc.posts {
				t.Errorf("Notify = %v after %d posts; want error %v after %d", err, posts.Load(), tc.wantErr, tc.posts)
			}
			if took > 2*time.Second {
				t.Errorf("Notify took %s; each post should give up after 200ms", took)
			}
		})
	}
}
