package faultproxy_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/pullmedic/pullmedic/internal/faultproxy"
	"github.com/pullmedic/pullmedic/internal/motoserver"
)

// config points the SDK at p with attempts tries per call and a backoff short
// enough for tests.
func config(t *testing.T, p *faultproxy.Proxy, attempts int) aws.Config {
	t.Helper()
	cfg := motoserver.Config(t, "eu-west-1")
	cfg.BaseEndpoint = aws.String(p.URL)
	cfg.RetryMaxAttempts = attempts
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = 5 * time.Millisecond })
	}
	return cfg
}

// api is one read of each wire protocol, with the error codes AWS sends for
// throttling and unavailability in that protocol.
type api struct {
	protocol, service, operation string
	call                         func(context.Context, aws.Config) error
	throttle, unavailable        string
}

var apis = []api{
	{"awsJson1_1", "ecs", "ListClusters", func(ctx context.Context, cfg aws.Config) error {
		_, err := ecs.NewFromConfig(cfg).ListClusters(ctx, &ecs.ListClustersInput{})
		return err
	}, "ThrottlingException", "ServiceUnavailableException"},
	{"awsJson1_0", "dynamodb", "ListTables", func(ctx context.Context, cfg aws.Config) error {
		_, err := dynamodb.NewFromConfig(cfg).ListTables(ctx, &dynamodb.ListTablesInput{})
		return err
	}, "ThrottlingException", "ServiceUnavailableException"},
	{"awsJson1_0 query-compatible", "sqs", "ListQueues", func(ctx context.Context, cfg aws.Config) error {
		_, err := sqs.NewFromConfig(cfg).ListQueues(ctx, &sqs.ListQueuesInput{})
		return err
	}, "ThrottlingException", "ServiceUnavailableException"},
	{"awsQuery", "iam", "ListRoles", func(ctx context.Context, cfg aws.Config) error {
		_, err := iam.NewFromConfig(cfg).ListRoles(ctx, &iam.ListRolesInput{})
		return err
	}, "Throttling", "ServiceUnavailable"},
	{"awsQuery", "sns", "ListTopics", func(ctx context.Context, cfg aws.Config) error {
		_, err := sns.NewFromConfig(cfg).ListTopics(ctx, &sns.ListTopicsInput{})
		return err
	}, "Throttling", "ServiceUnavailable"},
	{"ec2Query", "ec2", "DescribeVpcs", func(ctx context.Context, cfg aws.Config) error {
		_, err := ec2.NewFromConfig(cfg).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
		return err
	}, "RequestLimitExceeded", "Unavailable"},
}

// The SDK's own requests are named as IAM names their actions.
func TestOperationOfSDKRequests(t *testing.T) {
	p := faultproxy.New(t, motoserver.Endpoint(t))
	cfg := config(t, p, 1)
	for _, a := range apis {
		if err := a.call(context.Background(), cfg); err != nil {
			t.Fatalf("%s:%s: %v", a.service, a.operation, err)
		}
	}
	var got, want []string
	for i, c := range p.Calls() {
		got = append(got, c.Service+":"+c.Operation)
		want = append(want, apis[i].service+":"+apis[i].operation)
		if c.Err != nil || c.Fault != faultproxy.None || !c.Forwarded || c.Status != http.StatusOK {
			t.Errorf("call %d = %+v, want forwarded untouched with 200", i, c)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("calls = %v, want %v", got, want)
	}
}

func TestOperation(t *testing.T) {
	const scope = "AWS4-HMAC-SHA256 Credential=testing/20260101/eu-west-1/%s/aws4_request, SignedHeaders=host, Signature=00"
	tests := []struct {
		name, service, target, body string
		wantService, wantOperation  string
		wantErr                     string
	}{
		{name: "JSON target", service: "ecs", target: "AmazonEC2ContainerServiceV20141113.DescribeClusters", body: "{}",
			wantService: "ecs", wantOperation: "DescribeClusters"},
		{name: "query form", service: "iam", body: "Action=GetRole&RoleName=r&Version=2010-05-08",
			wantService: "iam", wantOperation: "GetRole"},
		{name: "unsigned", body: "Action=GetRole", wantErr: "unsigned POST /"},
		{name: "REST protocol", service: "lambda", wantErr: "lambda: no operation in POST /"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.NewRequest(http.MethodPost, "http://127.0.0.1/", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.service != "" {
				r.Header.Set("Authorization", fmt.Sprintf(scope, tt.service))
			}
			if tt.target != "" {
				r.Header.Set("X-Amz-Target", tt.target)
			}
			service, operation, err := faultproxy.Operation(r)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if service != tt.wantService || operation != tt.wantOperation || gotErr != tt.wantErr {
				t.Errorf("Operation = %q, %q, %q; want %q, %q, %q", service, operation, gotErr, tt.wantService, tt.wantOperation, tt.wantErr)
			}
			// The body is still there for the proxy to forward.
			if rest, _ := io.ReadAll(r.Body); string(rest) != tt.body {
				t.Errorf("body after Operation = %q, want %q", rest, tt.body)
			}
		})
	}
}

// Throttling and 503s reach the SDK as the errors real AWS sends: it parses
// their codes, classes them as it should and retries, and gets through when
// the fault stops before its attempts run out.
func TestErrorFaults(t *testing.T) {
	ep := motoserver.Endpoint(t)
	throttles := retry.IsErrorThrottles(retry.DefaultThrottles)
	retryables := retry.IsErrorRetryables(retry.DefaultRetryables)
	for _, a := range apis {
		for _, f := range []faultproxy.Fault{faultproxy.Throttle, faultproxy.Unavailable} {
			t.Run(a.protocol+"/"+a.service+"/"+f.String(), func(t *testing.T) {
				wantCode, wantStatus := a.unavailable, http.StatusServiceUnavailable
				if f == faultproxy.Throttle {
					wantCode = a.throttle
					if a.service != "ec2" { // EC2 throttles with 503
						wantStatus = http.StatusBadRequest
					}
				}
				p := faultproxy.New(t, ep)
				cfg := config(t, p, 3)
				ctx := context.Background()

				p.Set(faultproxy.Rule{Service: a.service, Operation: a.operation, Fault: f})
				err := a.call(ctx, cfg)
				var ae smithy.APIError
				if !errors.As(err, &ae) || ae.ErrorCode() != wantCode {
					t.Fatalf("error = %v, want API error %s", err, wantCode)
				}
				var re *awshttp.ResponseError
				if !errors.As(err, &re) || re.HTTPStatusCode() != wantStatus {
					t.Errorf("error = %v, want HTTP %d", err, wantStatus)
				}
				if got, want := throttles.IsErrorThrottle(err).Bool(), f == faultproxy.Throttle; got != want {
					t.Errorf("the SDK takes %s for throttling: %v, want %v", wantCode, got, want)
				}
				if !retryables.IsErrorRetryable(err).Bool() {
					t.Errorf("the SDK does not retry %s", wantCode)
				}
				calls := p.Calls()
				if len(calls) != 3 || p.Count("", "") != 0 {
					t.Errorf("calls = %+v, want 3 attempts, none reaching moto", calls)
				}
				for _, c := range calls {
					if c.Fault != f || c.Status != wantStatus {
						t.Errorf("call %+v, want %s with %d", c, f, wantStatus)
					}
				}

				p.Set(faultproxy.Rule{Service: a.service, Operation: a.operation, Fault: f, Times: 2})
				if err := a.call(ctx, cfg); err != nil {
					t.Errorf("third attempt after two faults: %v", err)
				}
				if n := p.Count(a.service, a.operation); n != 1 {
					t.Errorf("%d calls reached moto, want 1", n)
				}
			})
		}
	}
}

// Rules apply in order, to the services and operations they name, as often as
// Times allows.
func TestRules(t *testing.T) {
	p := faultproxy.New(t, motoserver.Endpoint(t))
	cfg := config(t, p, 1)
	ecsCall, iamCall := apis[0], apis[3]
	const (
		none     = faultproxy.None
		throttle = faultproxy.Throttle
		down     = faultproxy.Unavailable
	)
	tests := []struct {
		name  string
		rules []faultproxy.Rule
		calls []api
		want  []faultproxy.Fault
	}{
		{"no rules", nil, []api{ecsCall, iamCall}, []faultproxy.Fault{none, none}},
		{"by service", []faultproxy.Rule{{Service: "iam", Fault: throttle}}, []api{ecsCall, iamCall}, []faultproxy.Fault{none, throttle}},
		{"by operation", []faultproxy.Rule{{Operation: "ListClusters", Fault: down}}, []api{ecsCall, iamCall}, []faultproxy.Fault{down, none}},
		{"times", []faultproxy.Rule{{Fault: throttle, Times: 2}}, []api{ecsCall, iamCall, ecsCall, iamCall}, []faultproxy.Fault{throttle, throttle, none, none}},
		{"first rule wins", []faultproxy.Rule{{Service: "ecs", Fault: down}, {Fault: throttle}}, []api{ecsCall, iamCall}, []faultproxy.Fault{down, throttle}},
		{"None exempts", []faultproxy.Rule{{Service: "iam", Fault: none}, {Fault: throttle}}, []api{ecsCall, iamCall}, []faultproxy.Fault{throttle, none}},
		{"a spent rule passes on", []faultproxy.Rule{{Fault: down, Times: 1}, {Fault: throttle}}, []api{ecsCall, iamCall}, []faultproxy.Fault{down, throttle}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p.Set(tt.rules...)
			before := len(p.Calls())
			for _, a := range tt.calls {
				_ = a.call(context.Background(), cfg) // the faults are read from the proxy
			}
			var got []faultproxy.Fault
			for _, c := range p.Calls()[before:] {
				got = append(got, c.Fault)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("faults = %v, want %v", got, tt.want)
			}
		})
	}
}

// A rate hits the same requests under the same seed, whatever order
// concurrent callers arrive in, and whatever IDs moto generated for the world.
func TestRateIsReproducible(t *testing.T) {
	p := faultproxy.New(t, motoserver.Endpoint(t))
	client := ec2.NewFromConfig(config(t, p, 1))
	const n = 40
	// throttled returns the names whose calls were throttled: each asks for
	// the security group of that name in a VPC moto would have named.
	throttled := func(seed uint64, vpc string) []string {
		p.Set(faultproxy.Rule{Service: "ec2", Operation: "DescribeSecurityGroups", Fault: faultproxy.Throttle, Rate: 0.5, Seed: seed})
		var mu sync.Mutex
		var hit []string
		var wg sync.WaitGroup
		for i := range n {
			name := fmt.Sprintf("group-%02d", i)
			wg.Go(func() {
				_, err := client.DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
					{Name: aws.String("vpc-id"), Values: []string{vpc}}, {Name: aws.String("group-name"), Values: []string{name}},
				}})
				if err != nil {
					mu.Lock()
					defer mu.Unlock()
					hit = append(hit, name)
				}
			})
		}
		wg.Wait()
		slices.Sort(hit)
		return hit
	}
	const vpc, reseeded = "vpc-0a1b2c3d4e5f60718", "vpc-0f9e8d7c6b5a43210"
	first, again, other := throttled(1, vpc), throttled(1, reseeded), throttled(2, vpc)
	if !slices.Equal(first, again) {
		t.Errorf("seed 1 throttled %v, then %v", first, again)
	}
	if slices.Equal(first, other) {
		t.Errorf("seeds 1 and 2 throttled the same calls: %v", first)
	}
	if len(first) < n/4 || len(first) > 3*n/4 {
		t.Errorf("rate 0.5 throttled %d of %d calls", len(first), n)
	}
	t.Logf("rate 0.5: seed 1 throttled %d of %d calls, seed 2 %d", len(first), n, len(other))
}

func TestLatency(t *testing.T) {
	p := faultproxy.New(t, motoserver.Endpoint(t))
	const delay = 300 * time.Millisecond
	p.Set(faultproxy.Rule{Service: "ecs", Operation: "ListClusters", Fault: faultproxy.Latency, Delay: delay})
	start := time.Now()
	if err := apis[0].call(context.Background(), config(t, p, 1)); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < delay {
		t.Errorf("call took %v, want at least %v", d, delay)
	}
	if c := p.Calls(); len(c) != 1 || c[0].Fault != faultproxy.Latency || c[0].Status != http.StatusOK || p.Count("ecs", "ListClusters") != 1 {
		t.Errorf("calls = %+v, want one delayed call answered by moto", c)
	}
}

// A hung request costs the client its attempt timeout, and the SDK retries it.
func TestHangIsCutByTheClientTimeout(t *testing.T) {
	p := faultproxy.New(t, motoserver.Endpoint(t))
	p.Set(faultproxy.Rule{Fault: faultproxy.Hang})
	cfg := config(t, p, 2)
	const timeout = 200 * time.Millisecond
	cfg.HTTPClient = awshttp.NewBuildableClient().WithTimeout(timeout)
	start := time.Now()
	err := apis[0].call(context.Background(), cfg)
	elapsed := time.Since(start)
	var ae smithy.APIError
	if err == nil || errors.As(err, &ae) {
		t.Fatalf("error = %v, want a timeout", err)
	}
	if elapsed < 2*timeout || elapsed > 10*timeout {
		t.Errorf("two attempts took %v, want about %v", elapsed, 2*timeout)
	}
	calls := waitCalls(t, p, func(c []faultproxy.Call) bool { return len(c) == 2 })
	for _, c := range calls {
		if c.Fault != faultproxy.Hang || c.Forwarded || c.Status != 0 {
			t.Errorf("call %+v, want a hang that never answered", c)
		}
	}
}

// A request still held when its test ends is dropped, not leaked: the client
// gets an error, and the test's cleanup does not wait for it.
func TestHangEndsWithTheTest(t *testing.T) {
	ep := motoserver.Endpoint(t)
	done := make(chan error, 1)
	t.Run("holds a request", func(t *testing.T) {
		p := faultproxy.New(t, ep)
		p.Set(faultproxy.Rule{Fault: faultproxy.Hang})
		cfg := config(t, p, 1) // no timeout: only the proxy can end it
		go func() { done <- apis[0].call(context.Background(), cfg) }()
		waitCalls(t, p, func(c []faultproxy.Call) bool { return len(c) == 1 })
	})
	select {
	case err := <-done:
		if err == nil {
			t.Error("a held request succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a held request outlived its test")
	}
}

// waitCalls waits until the proxy's calls satisfy ok: a call is recorded by the
// proxy's handler, which may finish after the client has given up.
func waitCalls(t *testing.T, p *faultproxy.Proxy, ok func([]faultproxy.Call) bool) []faultproxy.Call {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		calls := p.Calls()
		if ok(calls) {
			return calls
		}
		if time.Now().After(deadline) {
			t.Fatalf("calls = %+v", calls)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
