package account

import (
	"sync"
	"time"
)

// MaxVPCCacheAge is the longest a VPCCache keeps a read: long enough for a
// storm (the services of one VPC fail together when its endpoint, NAT or
// routes break), short enough that a change someone makes by hand shows in
// the next minute's diagnoses.
const MaxVPCCacheAge = 60 * time.Second

// VPCCache keeps what a warm diagnose function read about the network a pull
// crosses, so that the next diagnoses in the same VPC skip those reads: every
// service in a VPC shares its route tables, endpoints, DHCP options, network
// ACLs, NAT and internet gateways, attributes and subnets, and the region's
// DHCP option sets and S3 prefix list. EC2 throttles each Describe API per
// account and region (a bucket of 100 calls, refilled at 20 a second:
// https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html), so
// a storm of diagnoses that each read them all would drain those buckets for
// the account's own tools too.
//
// A read is kept under its account, region, scope (the VPC or subnet it is
// filtered to, or "" for the region) and API; only a read that succeeded is
// kept, so a failed one is read again. Security groups are not kept: they are
// each service's own, and the likeliest to be fixed between two failures.
//
// Only the diagnose function uses one (WithVPCCache). Remediate reads fresh:
// it judges what it is about to change.
type VPCCache struct {
	// MaxAge is how long a read is kept; 0, or more than MaxVPCCacheAge, is MaxVPCCacheAge.
	MaxAge time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time

	mu      sync.Mutex
	entries map[cacheKey]cacheEntry
}

type cacheKey struct{ account, region, scope, api string }

type cacheEntry struct {
	value   any
	expires time.Time
}

// WithVPCCache makes Collect take VPC-scoped reads from cache and keep its own there.
func WithVPCCache(c *VPCCache) Option { return func(l *Live) { l.vpcCache = c } }

func (c *VPCCache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *VPCCache) maxAge() time.Duration {
	if c.MaxAge <= 0 || c.MaxAge > MaxVPCCacheAge {
		return MaxVPCCacheAge
	}
	return c.MaxAge
}

func (c *VPCCache) get(k cacheKey) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || !c.now().Before(e.expires) {
		return nil, false
	}
	return e.value, true
}

// put keeps v, and drops what has expired, so a hub serving many VPCs holds
// only the last minute's.
func (c *VPCCache) put(k cacheKey, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.entries == nil {
		c.entries = map[cacheKey]cacheEntry{}
	}
	for key, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, key)
		}
	}
	c.entries[k] = cacheEntry{value: v, expires: now.Add(c.maxAge())}
}

// fromCache sets *dst to the kept answer of api for scope, and reports
// whether there was one. Kept values are shared by the diagnoses that read
// them: nobody writes into Facts after Collect, and slices are kept clipped,
// so appending to one copies it.
func fromCache[T any](c *collector, scope, api string, dst *T) bool {
	if c.l.vpcCache == nil {
		return false
	}
	v, ok := c.l.vpcCache.get(cacheKey{c.t.Account, c.region, scope, api})
	if ok {
		*dst = v.(T)
	}
	return ok
}

// keep puts the answer of a read that succeeded in the cache, if there is one.
func (c *collector) keep(scope, api string, v any) {
	if c.l.vpcCache != nil {
		c.l.vpcCache.put(cacheKey{c.t.Account, c.region, scope, api}, v)
	}
}
