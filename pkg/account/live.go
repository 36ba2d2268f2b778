package account

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/pullmedic/pullmedic/pkg/event"
)

// Live is the View of a live account: it reads, through the SDK, only what one
// task touches, in as few sequential rounds as the dependencies allow.
type Live struct {
	cfg      aws.Config
	clients  Clients
	pageSize int32
	vpcCache *VPCCache // nil: every read is made
}

// Option configures a Live.
type Option func(*Live)

// WithPageSize sets MaxResults on the listing calls that accept it: 5 to 50
// suits them all. 0, the default, leaves it to the service (mostly one page).
func WithPageSize(n int32) Option { return func(l *Live) { l.pageSize = n } }

// WithClients replaces the SDK clients, e.g. with fakes.
func WithClients(c Clients) Option { return func(l *Live) { l.clients = c } }

// NewLive returns a Live reading with cfg. The task's region comes from the
// event, else cfg.Region; an ECR image is read in its own registry's region.
func NewLive(cfg aws.Config, opts ...Option) *Live {
	if cfg.HTTPClient == nil {
		// One connection pool for every client and region, kept across Collects.
		cfg.HTTPClient = awshttp.NewBuildableClient()
	}
	l := &Live{cfg: cfg, clients: DefaultClients()}
	for _, o := range opts {
		o(l)
	}
	return l
}

func (l *Live) regional(region string) aws.Config {
	c := l.cfg.Copy()
	c.Region = region
	return c
}

func (l *Live) maxResults() *int32 {
	if l.pageSize <= 0 {
		return nil
	}
	return aws.Int32(l.pageSize)
}

// Collect reads the Facts for t. Failed reads go to Facts.Errors; the error
// is non-nil only when ctx ends.
func (l *Live) Collect(ctx context.Context, t *event.Task) (*Facts, error) {
	if t == nil {
		return nil, errors.New("collect: no task given")
	}
	region := cmp.Or(t.Region, l.cfg.Region)
	c := &collector{
		l: l, t: t, region: region,
		f: &Facts{Task: t, Snapshot: Snapshot{Schema: SchemaV1, Account: t.Account, Region: region}},
	}
	cfg := l.regional(region)
	c.ecs, c.ec2, c.iam = l.clients.ECS(cfg), l.clients.EC2(cfg), l.clients.IAM(cfg)
	if !c.f.OnInstance() {
		c.subnet = t.SubnetID
	}
	if err := runRounds(ctx, c.firstRound()); err != nil {
		return nil, err
	}
	c.finish()
	return c.f, nil
}

// collector is the state of one Collect.
type collector struct {
	l      *Live
	t      *event.Task
	region string
	ecs    ECSAPI
	ec2    EC2API
	iam    IAMAPI

	// mu guards f.Errors, the ECR, IAM and secrets sections, and the fields
	// below; every other section has a single writer.
	mu          sync.Mutex
	f           *Facts
	dhcp        []ec2types.DhcpOptions // all sets; finish keeps the VPC's
	role        *iamtypes.RoleDetail
	roleMissing bool
	policies    map[string]*iamtypes.ManagedPolicyDetail
	listed      map[string]iamtypes.Policy // the account's attached policies, by ARN (listPolicies)

	// subnet is the subnet the pull leaves from: the task ENI's, or on a
	// container instance the instance's, once read. Set before the reads that use it.
	subnet string
	// instanceRole: the task runs on a container instance without an
	// execution role, so the instance profile's role pulls and is read.
	instanceRole bool
	// profile is that role's instance profile (ARN), once the instance is read.
	profile *ec2types.IamInstanceProfile
}

// firstRound is every read the event alone allows; the rest follow from their answers.
func (c *collector) firstRound() []read {
	reads := []read{gate(c.describeTaskDefinition), gate(c.listPolicies)}
	onInstance := c.f.OnInstance()
	switch {
	case onInstance:
		// The agent pulls over the host's network: the host gates the path.
		reads = append(reads, gate(c.describeContainerInstance))
	case c.t.SubnetID != "":
		reads = append(reads, c.subnetReads()...)
	}
	if c.t.TaskArn != "" { // a preflight judges a task that has not run yet
		reads = append(reads, leaf(c.describeTask))
	}
	reads = append(reads, leaf(c.describeCluster))
	if c.t.Service != "" {
		reads = append(reads, leaf(c.describeService))
	}
	if c.t.ENIID != "" && !onInstance { // on a host, the task ENI carries no pull
		reads = append(reads, leaf(c.describeENI))
	}
	if onInstance || c.t.SubnetID != "" {
		reads = append(reads, c.describeDHCPOptions()...)
		reads = append(reads, c.describeS3PrefixList()...)
	}
	return append(reads, c.imageReads()...)
}

// errorCode is the AWS error code of err, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// fail records a failed read under src as "API: CODE: message" and returns that text.
func (c *collector) fail(src Source, api string, err error) string {
	msg := err.Error()
	var ae smithy.APIError
	if errors.As(err, &ae) {
		msg = ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	msg = api + ": " + msg
	c.mu.Lock()
	defer c.mu.Unlock()
	full := msg
	if prev, ok := c.f.Errors[src]; ok {
		full = prev + "; " + msg
	}
	c.f.Fail(src, errors.New(full))
	return msg
}

// skip records that srcs could not be read because a read they need failed.
func (c *collector) skip(reason string, srcs ...Source) {
	for _, s := range srcs {
		c.fail(s, "skipped", errors.New(reason))
	}
}

// check reports whether a read succeeded. A failure is recorded under src,
// unless its error code says the resource simply does not exist.
func (c *collector) check(src Source, api string, err error, absent ...string) bool {
	if err == nil {
		return true
	}
	if !slices.Contains(absent, errorCode(err)) {
		c.fail(src, api, err)
	}
	return false
}

// pager is what every SDK paginator provides.
type pager[O, Opt any] interface {
	HasMorePages() bool
	NextPage(context.Context, ...func(*Opt)) (O, error)
}

// allPages reads every page and returns the items.
func allPages[O, Opt, T any](ctx context.Context, p pager[O, Opt], items func(O) []T) ([]T, error) {
	var out []T
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, items(page)...)
	}
	return out, nil
}

// listing is a read that stores a whole listing in dst, which only it writes.
func listing[O, Opt, T any](c *collector, src Source, api string, p pager[O, Opt], items func(O) []T, dst *[]T) read {
	return leaf(func(ctx context.Context) { readListing(ctx, c, src, api, p, items, dst) })
}

// keptListing is a listing the VPCCache keeps under scope (see VPCCache): no
// read at all when the cache holds its answer.
func keptListing[O, Opt, T any](c *collector, scope string, src Source, api string, p pager[O, Opt], items func(O) []T, dst *[]T) []read {
	if fromCache(c, scope, api, dst) {
		return nil
	}
	return []read{leaf(func(ctx context.Context) {
		if readListing(ctx, c, src, api, p, items, dst) {
			c.keep(scope, api, *dst)
		}
	})}
}

// readListing reads every page into dst and reports whether it succeeded.
func readListing[O, Opt, T any](ctx context.Context, c *collector, src Source, api string, p pager[O, Opt], items func(O) []T, dst *[]T) bool {
	v, err := allPages(ctx, p, items)
	if !c.check(src, api, err) {
		return false
	}
	*dst = slices.Clip(v)
	return true
}

// finish trims what was read wider than the task and orders what concurrent reads appended.
func (c *collector) finish() {
	if v := c.f.VPC(c.f.VPCID()); v != nil {
		for _, d := range c.dhcp {
			if aws.ToString(d.DhcpOptionsId) == aws.ToString(v.DhcpOptionsId) {
				c.f.EC2.DhcpOptions = append(c.f.EC2.DhcpOptions, d)
			}
		}
	}
	if c.role != nil && !c.roleMissing {
		sortBy(c.role.RolePolicyList, func(p iamtypes.PolicyDetail) *string { return p.PolicyName })
		if p := c.profile; p != nil && c.f.Errors[SrcRole] == "" {
			// Recorded as GetAccountAuthorizationDetails does, so the
			// instance finds its role (Facts.InstanceRole) in live facts and snapshots alike.
			c.role.InstanceProfileList = []iamtypes.InstanceProfile{{Arn: p.Arn, InstanceProfileName: aws.String(lastSegment(aws.ToString(p.Arn)))}}
		}
		c.f.IAM.RoleDetailList = []iamtypes.RoleDetail{*c.role}
	}
	for _, p := range c.policies {
		c.f.IAM.Policies = append(c.f.IAM.Policies, *p)
	}
	sortBy(c.f.IAM.Policies, func(p iamtypes.ManagedPolicyDetail) *string { return p.Arn })
	c.sortECR()
	c.sortSecrets()
}

// sortBy orders s by a string key, for output that does not depend on timing.
func sortBy[T any](s []T, key func(T) *string) {
	slices.SortStableFunc(s, func(a, b T) int { return strings.Compare(aws.ToString(key(a)), aws.ToString(key(b))) })
}

// notFound is the error for a resource a Describe call reported missing.
func notFound(what string) error { return fmt.Errorf("%s not found", what) }
