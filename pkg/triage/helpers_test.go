package triage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
	"github.com/pullmedic/pullmedic/pkg/notify"
	"github.com/pullmedic/pullmedic/pkg/state"
)

// The scenario: service web of cluster shop (tagged pullmedic:auto-fix=enabled)
// runs in a public subnet without a public IP, so network.public-ip fails.
const scenarioDir = "../../examples/scenarios/public-subnet-no-public-ip/"

var t0 = time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)

func at(d time.Duration) func() time.Time { return func() time.Time { return t0.Add(d) } }

// services returns the scenario's snapshot with its service copied as
// web-0 … web-(n-1); publicIP sets their assignPublicIp.
func services(t testing.TB, n int, publicIP ecstypes.AssignPublicIp) *account.Snapshot {
	t.Helper()
	snap, err := account.ReadSnapshotFile(scenarioDir + "snapshot.json")
	if err != nil {
		t.Fatal(err)
	}
	tmpl := snap.ECS.Services[0]
	snap.ECS.Services = nil
	for i := range n {
		s := tmpl // the pointers it shares are only read, but the network configuration
		vpc := *tmpl.NetworkConfiguration.AwsvpcConfiguration
		vpc.AssignPublicIp = publicIP
		s.NetworkConfiguration = &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &vpc}
		name := fmt.Sprintf("web-%d", i)
		s.ServiceName = aws.String(name)
		s.ServiceArn = aws.String("arn:aws:ecs:eu-west-1:111122223333:service/shop/" + name)
		snap.ECS.Services = append(snap.ECS.Services, s)
	}
	return snap
}

// shop is the scenario's cluster in its account and region, as the state table keys it.
var shop = state.Cluster{Account: "111122223333", Region: "eu-west-1", Name: "shop"}

// taskEvent is the scenario's stopped-task event for one task of a service.
func taskEvent(t testing.TB, id, service string, when time.Time) []byte {
	t.Helper()
	data, err := os.ReadFile(scenarioDir + "event.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	ev["id"], ev["time"] = id, when.Format(time.RFC3339)
	d := ev["detail"].(map[string]any)
	d["group"] = "service:" + service
	d["taskArn"] = "arn:aws:ecs:eu-west-1:111122223333:task/shop/" + id
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func deploymentEvent(id, service, eventName string, when time.Time) []byte {
	return fmt.Appendf(nil, `{"version": "0", "id": %q, "detail-type": "ECS Deployment State Change", "source": "aws.ecs",
		"account": "111122223333", "time": %q, "region": "eu-west-1",
		"resources": ["arn:aws:ecs:eu-west-1:111122223333:service/shop/%s"],
		"detail": {"eventType": "INFO", "eventName": %q, "deploymentId": "ecs-svc/%s", "reason": "done"}}`,
		id, when.Format(time.RFC3339), service, eventName, id)
}

// serviceActionEvent is an "ECS Service Action" event, shaped as ECS sends
// it: no deploymentId or reason, the cluster ARN in detail.
func serviceActionEvent(id, service, eventName string, when time.Time) []byte {
	return fmt.Appendf(nil, `{"version": "0", "id": %q, "detail-type": "ECS Service Action", "source": "aws.ecs",
		"account": "111122223333", "time": %q, "region": "eu-west-1",
		"resources": ["arn:aws:ecs:eu-west-1:111122223333:service/shop/%s"],
		"detail": {"eventType": "INFO", "eventName": %q, "clusterArn": "arn:aws:ecs:eu-west-1:111122223333:cluster/shop",
			"createdAt": %q}}`,
		id, when.Format(time.RFC3339), service, eventName, when.Format(time.RFC3339Nano))
}

// countingView serves a snapshot and counts the diagnoses.
type countingView struct {
	mu    sync.Mutex
	snap  *account.Snapshot
	calls atomic.Int32
}

func (v *countingView) Collect(ctx context.Context, t *event.Task) (*account.Facts, error) {
	v.calls.Add(1)
	v.mu.Lock()
	defer v.mu.Unlock()
	return account.SnapshotView{Snap: v.snap}.Collect(ctx, t)
}

func (v *countingView) set(s *account.Snapshot) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.snap = s
}

// recorder keeps the notices it is sent; fail makes the next ones fail.
type recorder struct {
	mu      sync.Mutex
	notices []*notify.Notice
	fail    int
}

func (r *recorder) Notify(_ context.Context, n *notify.Notice) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail > 0 {
		r.fail--
		return fmt.Errorf("notifier down")
	}
	r.notices = append(r.notices, n)
	return nil
}

func (r *recorder) take() []*notify.Notice {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.notices
	r.notices = nil
	return out
}

// invoker counts remediate invocations and keeps their payloads.
type invoker struct {
	mu       sync.Mutex
	payloads [][]byte
	fail     int
}

func (f *invoker) Invoke(_ context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail > 0 {
		f.fail--
		return nil, fmt.Errorf("lambda down")
	}
	if in.InvocationType != "Event" || aws.ToString(in.FunctionName) != "pullmedic-remediate" {
		return nil, fmt.Errorf("invoked %s as %s, want pullmedic-remediate as Event", aws.ToString(in.FunctionName), in.InvocationType)
	}
	f.payloads = append(f.payloads, in.Payload)
	return &lambda.InvokeOutput{StatusCode: 202}, nil
}

func (f *invoker) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.payloads)
}

var quiet = slog.New(slog.NewJSONHandler(io.Discard, nil))
