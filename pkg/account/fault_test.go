package account_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/pullmedic/pullmedic/internal/faultproxy"
	"github.com/pullmedic/pullmedic/internal/motoserver"
	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
	"github.com/pullmedic/pullmedic/pkg/report"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

// A read that fails must make the rules that need it "error", never another
// verdict: a throttled call is not evidence. The fixture is diagnosed once
// cleanly for the reference verdicts, then again with half of all calls
// throttled (or answered 503), each run with another seed; every verdict
// must be the reference's or "error".
func TestFaultyReadsNeverFlipAVerdict(t *testing.T) {
	fx := seed(t)
	p := faultproxy.New(t, motoserver.Endpoint(t))
	cfg := faultyConfig(fx.cfg, p.URL)
	live := account.NewLive(cfg)

	// Healthy and failing worlds: a flip from fail to pass matters as much as
	// one from pass to fail.
	worlds := []struct {
		name string
		task *event.Task
	}{
		{"full", fx.full()},
		{"typical", fx.typical()},
		{"tag missing", fx.task(fx.typicalTD, strings.Replace(fx.typicalImage, ":2.0", ":9.9", 1))},
		{"repository missing", fx.task(fx.fullTD, strings.Replace(fx.fullImage, "/app:", "/nope:", 1))},
	}
	reference := make([]*report.Report, len(worlds))
	for i, w := range worlds {
		reference[i] = diagnose(t, live, w.task)
		for _, fd := range reference[i].Findings {
			// A missing repository brings the pull-through cache rules, which
			// moto 5.2.1 cannot list (HTTP 500): that rule is in error throughout.
			if fd.Status == rules.Error && fd.Rule != rules.ImagePullThroughCache.ID {
				t.Fatalf("%s: reference %s is in error: %s", w.name, fd.Rule, fd.Message)
			}
		}
	}

	tests := []struct {
		name string
		rule faultproxy.Rule
		runs int
		// wantErrors: the faults must show as errors, or the test proves nothing.
		wantErrors bool
	}{
		{"throttled 50%", faultproxy.Rule{Fault: faultproxy.Throttle, Rate: 0.5}, 10, true},
		{"503 at 50%", faultproxy.Rule{Fault: faultproxy.Unavailable, Rate: 0.5}, 3, true},
		// A slow account (well within the attempt timeout) changes nothing.
		{"latency 50ms", faultproxy.Rule{Fault: faultproxy.Latency, Delay: 50 * time.Millisecond}, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			var total, inError, flipped, calls, faulted int
			for run := range tt.runs {
				rule := tt.rule
				rule.Seed = uint64(run + 1)
				p.Set(rule)
				before := len(p.Calls())
				for i, w := range worlds {
					got := diagnose(t, live, w.task)
					for j, fd := range got.Findings {
						ref := reference[i].Findings[j]
						total++
						switch fd.Status {
						case ref.Status:
						case rules.Error:
							inError++
						default:
							flipped++
							t.Errorf("seed %d, %s: %s flipped from %s to %s: %s", rule.Seed, w.name, fd.Rule, ref.Status, fd.Status, fd.Message)
						}
					}
					// No fault makes pullmedic accuse another cause.
					if got.Cause != nil && aws.ToString(got.Cause) != aws.ToString(reference[i].Cause) {
						t.Errorf("seed %d, %s: cause %s, reference %s", rule.Seed, w.name, aws.ToString(got.Cause), aws.ToString(reference[i].Cause))
					}
				}
				for _, c := range p.Calls()[before:] {
					calls++
					if c.Fault == rule.Fault && rule.Fault != faultproxy.Latency {
						faulted++
					}
				}
			}
			p.Clear()
			t.Logf("%d runs of %d worlds: %d verdicts, %d in error, %d flipped; %d of %d requests faulted; %v",
				tt.runs, len(worlds), total, inError, flipped, faulted, calls, time.Since(start).Round(time.Millisecond))
			if tt.wantErrors && inError == 0 {
				t.Errorf("no verdict became error under %s: the faults did not reach the rules", tt.name)
			}
			if !tt.wantErrors && inError != 0 {
				t.Errorf("%d verdicts became error under %s", inError, tt.name)
			}
		})
	}
}

// faultyConfig reads through the proxy at url with the production retryer
// and attempt timeout, but fewer attempts and a short backoff, so that half
// the calls failing makes some reads fail and the test stays fast.
func faultyConfig(cfg aws.Config, url string) aws.Config {
	cfg.BaseEndpoint = aws.String(url)
	cfg.HTTPClient = awshttp.NewBuildableClient().WithTimeout(account.AttemptTimeout)
	cfg.RetryMaxAttempts = 2
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = 10 * time.Millisecond })
	}
	return cfg
}

func diagnose(t *testing.T, v account.View, task *event.Task) *report.Report {
	t.Helper()
	f := collect(t, v, task)
	rep := report.Build(f)
	if len(rep.Findings) != len(rules.Catalog) {
		t.Fatalf("%d findings, want one per rule of the catalog (%d)", len(rep.Findings), len(rules.Catalog))
	}
	return rep
}
