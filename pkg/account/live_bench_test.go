package account_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/account/awscount"
	"github.com/pullmedic/pullmedic/pkg/event"
)

// BenchmarkCollectLive measures one Collect against moto: calls and rounds
// per diagnosis of the typical and the full Fargate task, and of a task on
// an EC2 container instance (with an execution role). Wall time against moto
// says little (it answers one call at a time); see
// BenchmarkCollectLiveLatency50ms for that.
func BenchmarkCollectLive(b *testing.B) {
	h := seedHost(b)
	benchCollect(b, h, h.cfg)
}

// BenchmarkCollectLiveLatency50ms puts 50 ms in front of every call, as a
// far region would: wall time then follows the rounds, not the calls.
func BenchmarkCollectLiveLatency50ms(b *testing.B) {
	h := seedHost(b)
	benchCollect(b, h, latencyProxy(b, h.cfg, 50*time.Millisecond))
}

func benchCollect(b *testing.B, h *hostFixture, cfg aws.Config) {
	for _, tc := range []struct {
		name string
		task *event.Task
	}{{"typical", h.typical()}, {"full", h.full()}, {"ec2", h.onHost(h.typicalTD)}} {
		b.Run(tc.name, func(b *testing.B) {
			calls := awscount.New()
			cfg := cfg.Copy()
			calls.Attach(&cfg)
			live := account.NewLive(cfg)
			n, start := 0, time.Now()
			for b.Loop() {
				f, err := live.Collect(context.Background(), tc.task)
				if err != nil || len(f.Errors) > 0 {
					b.Fatalf("Collect: %v %v", err, f.Errors)
				}
				n++
			}
			per := func(v float64) float64 { return v / float64(n) }
			b.ReportMetric(per(float64(calls.Calls())), "calls/op")
			b.ReportMetric(per(float64(calls.Rounds())), "rounds/op")
			b.ReportMetric(per(float64(time.Since(start).Milliseconds())), "wall-ms/op")
		})
	}
}
