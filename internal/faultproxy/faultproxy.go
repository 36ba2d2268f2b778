// Package faultproxy is an HTTP proxy for tests that sits between the AWS SDK
// and moto and injects the faults real AWS produces under load: throttling,
// 503s, latency, and requests that never answer. It is for tests only.
//
//	p := faultproxy.New(t, motoserver.Endpoint(t))
//	cfg.BaseEndpoint = aws.String(p.URL)
//	p.Set(faultproxy.Rule{Service: "dynamodb", Operation: "PutItem", Fault: faultproxy.Throttle, Rate: 0.5, Seed: 1})
//
// Which requests a Rate hits depends only on the seed and on the requests
// themselves (with the IDs moto generates masked), not on the order they
// arrive in: concurrent callers see the same faults on every run, and a
// failure seen with one seed comes back with it.
package faultproxy

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Fault is what the proxy does to a request.
type Fault int

const (
	// None forwards the request untouched. A None rule placed first exempts
	// the requests it matches from the rules after it.
	None Fault = iota
	// Throttle answers with the protocol's throttling error, which the SDK's
	// retryer backs off from: 400 ThrottlingException (JSON protocols),
	// 400 Throttling (query protocol), 503 RequestLimitExceeded (EC2).
	Throttle
	// Unavailable answers 503 with the protocol's ServiceUnavailable error.
	Unavailable
	// Latency forwards the request after Rule.Delay.
	Latency
	// Hang never answers: the request is held until the client gives up or
	// the test ends, then the connection is dropped.
	Hang
)

func (f Fault) String() string {
	switch f {
	case None:
		return "none"
	case Throttle:
		return "throttle"
	case Unavailable:
		return "unavailable"
	case Latency:
		return "latency"
	case Hang:
		return "hang"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// Rule selects requests and the fault they get. Each request gets the fault
// of the first rule, in order, that matches it, has hits left, and whose draw
// hits; a request no rule hits is forwarded untouched.
type Rule struct {
	Service   string // SigV4 signing name, e.g. "ec2", "dynamodb"; "" matches every service
	Operation string // e.g. "DescribeSubnets"; "" matches every operation
	Fault     Fault
	// Rate is the share of matching requests hit, in [0, 1]; 0 means all.
	Rate float64
	// Times is how many requests the rule hits at most; 0 means no limit.
	Times int
	// Delay is what Latency adds.
	Delay time.Duration
	// Seed makes the draws behind Rate: the same seed hits the same requests.
	Seed uint64
}

func (r Rule) matches(o op) bool {
	return (r.Service == "" || r.Service == o.service) && (r.Operation == "" || r.Operation == o.name)
}

// Call is one request the proxy received.
type Call struct {
	Service, Operation string
	Fault              Fault
	// Forwarded is whether the request reached the target.
	Forwarded bool
	// Status is the HTTP status sent back; 0 while the request is in flight,
	// or when none was sent (a Hang, or a client that gave up during a Latency).
	Status int
	// Err says why the operation could not be named (an unsigned request or a
	// REST protocol); such requests are forwarded and never get a fault.
	Err error
}

// Proxy is a running fault-injecting proxy.
type Proxy struct {
	// URL is the proxy's base URL: the SDK's BaseEndpoint or AWS_ENDPOINT_URL.
	URL string

	tb      testing.TB
	forward *httputil.ReverseProxy
	done    chan struct{} // closed when the test ends: releases every Hang and Latency
	ids     atomic.Uint64 // request IDs of the injected errors

	mu    sync.Mutex
	rules []rule
	seen  map[uint64]int // occurrences of each distinct request since Set
	calls []Call
}

// rule is a Rule and how often it has hit.
type rule struct {
	Rule
	hits int
}

// New starts a proxy forwarding to target (moto's URL). It is shut down when
// tb's test ends, after every held request has been released.
func New(tb testing.TB, target string) *Proxy {
	tb.Helper()
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatalf("faultproxy: target %q: %v", target, err)
	}
	// A connection per concurrent call, as the SDK keeps, so that reconnecting
	// adds no time of its own.
	transport := &http.Transport{MaxIdleConnsPerHost: 32}
	p := &Proxy{
		tb:   tb,
		done: make(chan struct{}),
		seen: map[uint64]int{},
		forward: &httputil.ReverseProxy{
			Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(u); pr.Out.Host = pr.In.Host },
			Transport: transport,
			// A client that gave up while moto answered: nobody reads this.
			ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) },
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL = srv.URL
	tb.Cleanup(func() {
		close(p.done) // Close waits for the handlers, so release them first
		srv.Close()
		transport.CloseIdleConnections()
	})
	return p
}

// Set replaces the rules and restarts their draws and hit counts.
func (p *Proxy) Set(rules ...Rule) {
	p.tb.Helper()
	rs := make([]rule, len(rules))
	for i, r := range rules {
		switch {
		case r.Rate < 0 || r.Rate > 1:
			p.tb.Fatalf("faultproxy: rule %d: Rate %v is not in [0, 1]", i, r.Rate)
		case r.Fault < None || r.Fault > Hang:
			p.tb.Fatalf("faultproxy: rule %d: unknown fault %v", i, r.Fault)
		case r.Fault == Latency && r.Delay <= 0:
			p.tb.Fatalf("faultproxy: rule %d: Latency needs a Delay", i)
		}
		rs[i] = rule{Rule: r}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules, p.seen = rs, map[uint64]int{}
}

// Clear removes every rule: requests are forwarded untouched.
func (p *Proxy) Clear() { p.Set() }

// Calls returns the requests received so far, in the order they arrived; one
// still in flight has Status 0.
func (p *Proxy) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.calls)
}

// Count is how many requests of an operation reached the target; "" matches
// every service or operation.
func (p *Proxy) Count(service, operation string) int {
	match := Rule{Service: service, Operation: operation}
	n := 0
	for _, c := range p.Calls() {
		if c.Forwarded && c.Err == nil && match.matches(op{service: c.Service, name: c.Operation}) {
			n++
		}
	}
	return n
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	body, err := readBody(r)
	if err != nil {
		p.record(Call{Err: err})
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	o, err := parse(r, body)
	var f rule
	if err == nil {
		f = p.pick(o, body)
	}
	i := p.record(Call{Service: o.service, Operation: o.name, Fault: f.Fault, Err: err})
	// Deferred, so that a dropped connection (a panic) is recorded too.
	defer p.update(i, func(c *Call) { c.Status = sw.status })
	requestID := fmt.Sprintf("faultproxy-%d", p.ids.Add(1))
	switch f.Fault {
	case Throttle:
		throttled.write(sw, r, o.proto, requestID)
		return
	case Unavailable:
		unavailable.write(sw, r, o.proto, requestID)
		return
	case Hang:
		p.wait(r.Context(), 0)
		panic(http.ErrAbortHandler) // drop the connection: no answer at all
	case Latency:
		if !p.wait(r.Context(), f.Delay) {
			panic(http.ErrAbortHandler)
		}
	}
	p.update(i, func(c *Call) { c.Forwarded = true })
	p.forward.ServeHTTP(sw, r)
}

// record appends a call when it arrives, so that held requests show, and
// returns its index.
func (p *Proxy) record(c Call) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, c)
	return len(p.calls) - 1
}

func (p *Proxy) update(i int, fn func(*Call)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fn(&p.calls[i])
}

// pick returns the rule that hits a request, or a zero rule (None).
func (p *Proxy) pick(o op, body []byte) rule {
	// A request is known by what it asks: the same request gets the same
	// draws whenever it arrives, and its retries draw anew. Generated IDs are
	// masked, so that a world seeded again in moto draws as before.
	h := fnv.New64a()
	for _, s := range []string{o.service, o.name, maskIDs(string(body))} {
		_ = binary.Write(h, binary.LittleEndian, uint64(len(s)))
		h.Write([]byte(s))
	}
	key := h.Sum64()
	p.mu.Lock()
	defer p.mu.Unlock()
	nth := p.seen[key]
	p.seen[key]++
	for i := range p.rules {
		r := &p.rules[i]
		if !r.matches(o) || (r.Times > 0 && r.hits >= r.Times) {
			continue
		}
		if r.Rate > 0 && draw(r.Seed, key, nth) >= r.Rate {
			continue
		}
		r.hits++
		return *r
	}
	return rule{}
}

// generatedIDs match the part of an ID that AWS (and moto) make up, after
// the part a test chooses: EC2's subnet-0a1b2c…, vpc-…, sg-…, and the random
// suffix of a Secrets Manager ARN.
var generatedIDs = []*regexp.Regexp{
	regexp.MustCompile(`(\b[a-z]+-)[0-9a-f]{8,17}\b`),
	regexp.MustCompile(`(:secret:[^":&]+-)[A-Za-z0-9]{6}\b`),
}

func maskIDs(body string) string {
	for _, re := range generatedIDs {
		body = re.ReplaceAllString(body, "${1}*")
	}
	return body
}

// draw is the nth number in [0, 1) of the random stream of one request under one seed.
func draw(seed, key uint64, nth int) float64 {
	rng := rand.New(rand.NewPCG(seed, key))
	for range nth {
		rng.Uint64()
	}
	return rng.Float64()
}

// wait holds a request for d (forever if 0) and reports whether it waited
// that long; it returns early when the client gives up or the test ends.
func (p *Proxy) wait(ctx context.Context, d time.Duration) bool {
	var elapsed <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		elapsed = t.C
	}
	select {
	case <-elapsed:
		return true
	case <-ctx.Done():
	case <-p.done:
	}
	return false
}

// statusWriter remembers the status sent.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController (the reverse proxy's flushes) reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
