package account_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/account/awscount"
	"github.com/pullmedic/pullmedic/pkg/event"
)

// vpcScopedReads are the reads a VPCCache keeps, and how many calls of each
// a typical diagnosis makes.
var vpcScopedReads = map[string]int{
	"DescribeSubnets": 1, "DescribeVpcs": 1, "DescribeVpcAttribute": 2, "DescribeRouteTables": 1,
	"DescribeNatGateways": 1, "DescribeInternetGateways": 1, "DescribeVpcEndpoints": 1,
	"DescribeNetworkAcls": 1, "DescribeDhcpOptions": 1, "DescribePrefixLists": 1,
}

// clock is a settable time for a VPCCache.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// A second diagnosis in the same account, region and VPC within the minute
// reads none of the VPC-scoped facts again, and gets the same facts; any
// other second diagnosis reads them all again.
func TestVPCCache(t *testing.T) {
	fx := seed(t)
	otherAccount := func(t *event.Task) *event.Task { t.Account = "222233334444"; return t }
	for _, tt := range []struct {
		name   string
		first  account.Option                // the first diagnosis's clients, when they differ
		wait   time.Duration                 // between the two diagnoses
		second func(*event.Task) *event.Task // the second diagnosis's task, when it differs
		cached bool                          // the second diagnosis read them from the cache
	}{
		{name: "same VPC within the minute", wait: 59 * time.Second, cached: true},
		{name: "a minute later", wait: account.MaxVPCCacheAge},
		{name: "another account", second: otherAccount},
		{name: "a failed read is read again", first: account.WithClients(denyingRouteTables())},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{now: time.Unix(1_700_000_000, 0)}
			cache := &account.VPCCache{Now: clk.Now}
			opts := []account.Option{account.WithVPCCache(cache)}
			if tt.first != nil {
				collect(t, account.NewLive(fx.cfg, append(opts, tt.first)...), fx.typical())
			} else {
				collect(t, account.NewLive(fx.cfg, opts...), fx.typical())
			}
			clk.add(tt.wait)
			task := fx.typical()
			if tt.second != nil {
				task = tt.second(task)
			}
			calls := awscount.New()
			cfg := fx.cfg.Copy()
			calls.Attach(&cfg)
			f := collect(t, account.NewLive(cfg, opts...), task)
			wantErrors(t, f)
			for op, n := range vpcScopedReads {
				want := n
				if tt.cached {
					want = 0
				}
				if tt.first != nil && op != "DescribeRouteTables" {
					want = 0 // only the failed read is made again
				}
				if got := calls.Count(op); got != want {
					t.Errorf("%s called %d times, want %d", op, got, want)
				}
			}
			if got := calls.Count("DescribeSecurityGroups"); got != 1 {
				t.Errorf("DescribeSecurityGroups called %d times, want 1: security groups are always read", got)
			}
			if fresh := collect(t, account.NewLive(fx.cfg), task); !reflect.DeepEqual(f.EC2, fresh.EC2) {
				t.Errorf("EC2 facts from the cache differ from a fresh read:\n%+v\n%+v", f.EC2, fresh.EC2)
			}
		})
	}
}

func denyingRouteTables() account.Clients {
	c := account.DefaultClients()
	real := c.EC2
	c.EC2 = func(cfg aws.Config) account.EC2API { return denyRouteTables{real(cfg)} }
	return c
}

// stormServices is how many failing services share the fixture's VPC in
// BenchmarkCollectLiveStorm.
const stormServices = 10

// BenchmarkCollectLiveStorm diagnoses the stopped tasks of 10 services of one
// VPC within a minute, as a warm diagnose function does (one VPCCache): the
// calls per diagnosis, the first one's full reads shared by the other nine.
func BenchmarkCollectLiveStorm(b *testing.B) {
	fx := seed(b)
	ctx := context.Background()
	in := fx.cfg.Copy()
	in.Region = taskRegion
	tasks := make([]*event.Task, stormServices)
	for i := range tasks {
		name := fmt.Sprintf("storm-%02d", i)
		_, err := ecs.NewFromConfig(in).CreateService(ctx, &ecs.CreateServiceInput{
			Cluster: &fx.clusterArn, ServiceName: &name, TaskDefinition: &fx.typicalTD, DesiredCount: aws.Int32(1),
		})
		if err != nil {
			b.Fatal(err)
		}
		tasks[i] = fx.typical()
		tasks[i].Service, tasks[i].Group = name, "service:"+name
		tasks[i].TaskArn = fmt.Sprintf("arn:aws:ecs:%s:%s:task/%s/%032d", taskRegion, accountID, clusterName, i)
	}
	calls := awscount.New()
	cfg := fx.cfg.Copy()
	calls.Attach(&cfg)
	storms := 0
	for b.Loop() {
		// Each storm starts cold, as a function that saw none of the VPC.
		cache := &account.VPCCache{}
		for _, task := range tasks {
			f, err := account.NewLive(cfg, account.WithVPCCache(cache)).Collect(ctx, task)
			if err != nil || len(f.Errors) > 0 {
				b.Fatalf("Collect: %v %v", err, f.Errors)
			}
		}
		storms++
	}
	b.ReportMetric(float64(calls.Calls())/float64(storms*stormServices), "calls/diagnosis")
}
