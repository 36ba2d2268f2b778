package fix

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/pullmedic/pullmedic/internal/faultproxy"
	"github.com/pullmedic/pullmedic/internal/motoserver"
	"github.com/pullmedic/pullmedic/internal/statetest"
	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
	"github.com/pullmedic/pullmedic/pkg/state"
)

// Remediation under faults, against moto behind a fault-injecting proxy.
// Whatever fails, a remediation either fixes and records, or returns an
// error for Lambda to retry; the retry then finishes, and nothing is lost
// or made twice.

// faulty routes the world's remediation (AWS calls and state table) through
// a fault proxy, with quick retries so that a test of many faults stays fast.
type faulty struct {
	*world
	proxy  *faultproxy.Proxy
	ledger *state.Ledger // through the proxy
	plain  *state.Ledger // the same table, directly: for checking what was stored
}

func newFaulty(t *testing.T) *faulty {
	w := newWorld(t, "enabled", false)
	p := faultproxy.New(t, motoserver.Endpoint(t))
	w.cfg.BaseEndpoint = aws.String(p.URL)
	w.cfg.Retryer = func() aws.Retryer {
		// Five attempts, as account.LoadConfig gives the functions.
		return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts, o.MaxBackoff = 5, 10*time.Millisecond })
	}
	tbl, _ := statetest.New(t)
	return &faulty{world: w, proxy: p, plain: statetest.Ledger(tbl),
		ledger: state.NewLedger(dynamodb.NewFromConfig(w.cfg), tbl.Name)}
}

// settled checks the end state: exactly one rule lets the task in, and the
// change that made it is recorded with that rule's ID.
func (f *faulty) settled(t *testing.T, res *Result) {
	t.Helper()
	if res == nil || res.Outcome != OutcomeChanged || len(res.Changes) != 1 {
		t.Fatalf("result %s, want one change", mustJSON(t, res))
	}
	var stored Change
	if err := f.plain.GetChange(context.Background(), res.Changes[0].ChangeID, &stored); err != nil {
		t.Fatalf("change record: %v", err)
	}
	live := f.ruleIDs(t)
	if len(live) != 1 || !slices.Equal(stored.SecurityGroupRuleIDs, live) {
		t.Errorf("live rules %v, recorded %v: want one, recorded", live, stored.SecurityGroupRuleIDs)
	}
}

// ruleIDs are the endpoints' group's rules that let the task's group in.
func (f *faulty) ruleIDs(t *testing.T) []string {
	t.Helper()
	out, err := f.ec2.DescribeSecurityGroupRules(context.Background(), &ec2.DescribeSecurityGroupRulesInput{
		Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: []string{f.epSG}}}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range out.SecurityGroupRules {
		if !aws.ToBool(r.IsEgress) && r.ReferencedGroupInfo != nil && aws.ToString(r.ReferencedGroupInfo.GroupId) == f.taskSG {
			ids = append(ids, aws.ToString(r.SecurityGroupRuleId))
		}
	}
	return ids
}

func (f *faulty) remediate() (*Result, error) {
	return Remediate(context.Background(), Options{View: account.NewLive(f.cfg), Writer: NewLiveWriter(f.cfg), Store: f.ledger, Who: "cli:test"}, f.task)
}

// At 45% throttling of every call, reads, writes and the table's alike: a
// nil error always comes with the fix made and recorded, and an error's
// retry (with the faults gone) finishes the work.
func TestRemediateUnderThrottling(t *testing.T) {
	if testing.Short() {
		t.Skip("many moto worlds")
	}
	const runs = 6
	var fixed, retried int
	for seed := range uint64(runs) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			f := newFaulty(t)
			f.proxy.Set(faultproxy.Rule{Fault: faultproxy.Throttle, Rate: 0.45, Seed: seed + 1})
			res, err := f.remediate()
			if err == nil {
				fixed++
				f.settled(t, res)
				return
			}
			retried++
			t.Logf("first try: %v", err)
			f.proxy.Clear()
			res, err = f.remediate()
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			f.settled(t, res)
		})
	}
	t.Logf("%d runs at 45%% throttling: %d fixed and recorded on the first try, %d returned an error and the retry finished; 0 nil errors with nothing done", runs, fixed, retried)
}

// failingStore fails chosen calls of the ledger once, as a crash or a
// throttled table would between a write and its record.
type failingStore struct {
	Store
	mu   sync.Mutex
	fail map[string]bool // method name → fail its next call
}

func (s *failingStore) failing(method string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail[method] {
		s.fail[method] = false
		return fmt.Errorf("%s: the table timed out", method)
	}
	return nil
}

func (s *failingStore) PutChange(ctx context.Context, id string, rec any) error {
	if err := s.failing("PutChange"); err != nil {
		return err
	}
	return s.Store.PutChange(ctx, id, rec)
}

func (s *failingStore) RecordFix(ctx context.Context, cluster state.Cluster, service string, fx state.Fix) error {
	if err := s.failing("RecordFix"); err != nil {
		return err
	}
	return s.Store.RecordFix(ctx, cluster, service, fx)
}

// A change whose record (or circuit-breaker entry) could not be stored is an
// error; the retry finds the intent written ahead, records the change with
// its rule ID, and reports it as changed, without a second write.
func TestChangeRecordWrittenAhead(t *testing.T) {
	for _, method := range []string{"PutChange", "RecordFix"} {
		t.Run(method+" fails once", func(t *testing.T) {
			w := newWorld(t, "enabled", false)
			tbl, _ := statetest.New(t)
			store := &failingStore{Store: statetest.Ledger(tbl), fail: map[string]bool{method: true}}
			opts := w.options(store)
			if _, err := Remediate(context.Background(), opts, w.task); err == nil {
				t.Fatal("a change that could not be recorded returned no error")
			}
			res, err := Remediate(context.Background(), opts, w.task)
			if err != nil {
				t.Fatal(err)
			}
			f := &faulty{world: w, plain: statetest.Ledger(tbl)}
			f.settled(t, res)
			// The retry may ask EC2 again (a duplicate, which answers with the
			// first rule's ID); settled checks that one rule exists.
			if res.Actions[0].Status != StatusVerified {
				t.Errorf("retry's action %+v, want verified", res.Actions[0])
			}
			recent, err := statetest.Ledger(tbl).RecentFixes(context.Background(), Cluster(w.task), Scope(w.task))
			if err != nil || len(recent) != 1 {
				t.Errorf("circuit breaker holds %d fixes (%v), want 1", len(recent), err)
			}
			var c Change
			if err := statetest.Ledger(tbl).GetChange(context.Background(), res.Changes[0].ChangeID, &c); err != nil {
				t.Fatal(err)
			}
			if err := Undo(context.Background(), NewLiveUndoer(w.cfg), c); err != nil {
				t.Fatal(err)
			}
			if ids := f.ruleIDs(t); len(ids) != 0 {
				t.Errorf("after undo: rules %v", ids)
			}
		})
	}
}

// Forged placement against live state: no write reaches AWS.
func TestMotoForgedPlacementWritesNothing(t *testing.T) {
	w := newWorld(t, "enabled", false)
	ctx := context.Background()
	other := aws.ToString(must(w.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})).Vpc.VpcId)
	foreign := aws.ToString(must(w.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &other, CidrBlock: aws.String("10.9.1.0/24")})).Subnet.SubnetId)
	cases := map[string]func(){
		"subnet of another VPC": func() { w.task.SubnetID = foreign },
		"task said to have stopped a minute ago, which ECS does not know": func() {
			w.task.Time = time.Now().Add(-time.Minute)
		},
	}
	tbl, _ := statetest.New(t)
	for name, forge := range cases {
		t.Run(name, func(t *testing.T) {
			saved := *w.task
			defer func() { *w.task = saved }()
			forge()
			res, err := Remediate(ctx, w.options(statetest.Ledger(tbl)), w.task)
			if err != nil || res.Outcome != OutcomeRefused {
				t.Fatalf("err %v, result %s; want refused", err, mustJSON(t, res))
			}
		})
	}
	if writes := w.writes(); len(writes) != 0 {
		t.Errorf("writes reached AWS: %v", writes)
	}
	if n := (&faulty{world: w}).ruleIDs(t); len(n) != 0 {
		t.Errorf("rules were added: %v", n)
	}
}

// failingView collects from a snapshot, with one read failed.
type failingView struct {
	snapView
	src account.Source
}

func (v failingView) Collect(ctx context.Context, t *event.Task) (*account.Facts, error) {
	f, err := v.snapView.Collect(ctx, t)
	if err == nil {
		f.Fail(v.src, errors.New("ThrottlingException: Rate exceeded"))
	}
	return f, err
}

// While a rule whose failures carry a fix is in error, remediation decides
// nothing and says so, so that Lambda retries: never "unchanged" on a guess.
func TestFixableRuleInErrorIsAnError(t *testing.T) {
	snap := endpointSGClosed("enabled")
	w := &countingWriter{Writer: NewSnapshotWriter(snap)}
	res, err := Remediate(context.Background(), Options{View: failingView{snapView{snap}, account.SrcTaskDefinition}, Writer: w, Now: clock()}, fxTask())
	if err == nil || !strings.Contains(err.Error(), "could not evaluate network.endpoint-sg") {
		t.Errorf("err = %v, result %s; want an error naming network.endpoint-sg", err, mustJSON(t, res))
	}
	if w.n != 0 {
		t.Errorf("%d writes, want none", w.n)
	}
}
