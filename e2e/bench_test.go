package e2e

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
	"github.com/pullmedic/pullmedic/pkg/report"
)

// BenchmarkColdStart starts the diagnose bootstrap under a fresh emulator per
// iteration (run it with -benchtime=10x) and reports the median init time:
// the first invocation's latency minus a warm one's. RIE's own "Init
// Duration" only times its call into the sandbox, not the bootstrap's start.
// The event is a running task, which the function drops without AWS calls.
func BenchmarkColdStart(b *testing.B) {
	boot := bootstrap(b, "diagnose")
	ev, err := os.ReadFile("testdata/events/running-fargate-docs-sample.json")
	if err != nil {
		b.Fatal(err)
	}
	// Nothing may leave the machine: every endpoint is a closed local port.
	env := map[string]string{
		"AWS_REGION": region, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
		"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_EC2_METADATA_DISABLED": "true",
		"STATE_TABLE": "pullmedic-state", "TOPIC_ARN": "arn:aws:sns:" + region + ":" + accountID + ":pullmedic",
		"REMEDIATE_FUNCTION": remediateName, "DEDUPE_WINDOW": "30m", "LOG_LEVEL": "error",
	}
	ctx := context.Background()
	var inits []time.Duration
	b.ResetTimer()
	for b.Loop() {
		f := startFunction(b, "diagnose", boot, env)
		start := time.Now()
		if _, err := f.call(ctx, ev); err != nil {
			b.Fatal(err)
		}
		first := time.Since(start)
		start = time.Now()
		if _, err := f.call(ctx, ev); err != nil {
			b.Fatal(err)
		}
		inits = append(inits, first-time.Since(start))
		f.stop()
	}
	slices.Sort(inits)
	b.ReportMetric(float64(inits[len(inits)/2].Microseconds())/1000, "init-ms")
}

// BenchmarkDiagnoseSnapshot is one whole diagnosis offline: parse the event,
// collect from a snapshot, evaluate the catalog, build the report.
func BenchmarkDiagnoseSnapshot(b *testing.B) {
	const dir = "../examples/scenarios/endpoint-sg-missing-443/"
	raw, err := os.ReadFile(dir + "event.json")
	if err != nil {
		b.Fatal(err)
	}
	snap, err := account.ReadSnapshotFile(dir + "snapshot.json")
	if err != nil {
		b.Fatal(err)
	}
	view := account.SnapshotView{Snap: snap}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		task, err := event.Parse(raw)
		if err != nil {
			b.Fatal(err)
		}
		f, err := view.Collect(ctx, task)
		if err != nil {
			b.Fatal(err)
		}
		if rep := report.Build(f); rep.Cause == nil {
			b.Fatal("no cause found")
		}
	}
}
