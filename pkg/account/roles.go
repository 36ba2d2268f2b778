package account

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/pullmedic/pullmedic/pkg/event"
)

// Hub and spoke: one deployment serves many accounts by assuming a narrow
// role (deploy/member.yaml) in the account an event comes from.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-user_externalid.html

// AccessError means an account could not be read: its role could not be
// assumed (missing, or its trust refuses the caller), or it denied reads.
// Its text is what the notice says: "cannot read account X: …".
type AccessError struct {
	Account string
	Err     error
}

func (e *AccessError) Error() string {
	return "cannot read account " + e.Account + ": " + e.Err.Error()
}
func (e *AccessError) Unwrap() error { return e.Err }

// ErrNotMember means an account is outside the organization or account list a
// hub serves: its events are refused.
var ErrNotMember = errors.New("not a member this deployment serves")

// accountID is an AWS account ID: an event naming anything else is refused
// before it reaches an ARN.
var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// Roles hands out the SDK config that acts in one account and region. With a
// role name it assumes arn:PARTITION:iam::ACCOUNT:role/NAME, and caches the
// credentials per account until they expire (aws.CredentialsCache over
// stscreds.AssumeRoleProvider), so a storm costs one AssumeRole per account an
// hour. Without one it hands out the caller's own credentials. Either way the
// retryer, and so the adaptive rate limiter, is shared per account and region,
// the scope of AWS's throttling buckets.
type Roles struct {
	base       aws.Config
	name       string
	externalID string
	sts        stscreds.AssumeRoleAPIClient

	mu       sync.Mutex
	creds    map[string]*aws.CredentialsCache // by account
	retryers map[string]aws.Retryer           // by account and region
}

// NewRoles returns Roles assuming roleName ("" for the caller's own
// credentials) with the given external ID ("" for none), through base's STS.
func NewRoles(base aws.Config, roleName, externalID string) *Roles {
	return &Roles{
		base: base, name: roleName, externalID: externalID, sts: sts.NewFromConfig(base),
		creds: map[string]*aws.CredentialsCache{}, retryers: map[string]aws.Retryer{},
	}
}

// Assumes reports whether the Roles assume a role (hub mode, or the CLI's --role-name).
func (r *Roles) Assumes() bool { return r.name != "" }

// RoleARN is the role Roles assumes in account.
func (r *Roles) RoleARN(account, region string) string {
	return "arn:" + partition(cmp.Or(region, r.base.Region)) + ":iam::" + account + ":role/" + r.name
}

// partition is the ARN partition of a region.
func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// Config returns the config for account in region. When a role is assumed,
// the credentials are fetched now, so that a missing role or a trust that
// refuses is one clear *AccessError instead of every read failing alike.
func (r *Roles) Config(ctx context.Context, account, region string) (aws.Config, error) {
	cfg := r.base.Copy()
	cfg.Region = cmp.Or(region, cfg.Region)
	r.mu.Lock()
	if r.base.Retryer != nil {
		key := account + "#" + cfg.Region
		if r.retryers[key] == nil {
			r.retryers[key] = r.base.Retryer()
		}
		shared := r.retryers[key]
		cfg.Retryer = func() aws.Retryer { return shared }
	}
	r.mu.Unlock()
	if !r.Assumes() {
		return cfg, nil
	}
	if !accountID.MatchString(account) {
		return aws.Config{}, &AccessError{Account: account, Err: errors.New("not an AWS account ID")}
	}
	creds := r.cache(account, cfg.Region)
	if _, err := creds.Retrieve(ctx); err != nil {
		return aws.Config{}, &AccessError{Account: account, Err: fmt.Errorf("assume %s: %w", r.RoleARN(account, cfg.Region), err)}
	}
	cfg.Credentials = creds
	return cfg, nil
}

// cache returns the account's credentials cache, made on first use.
func (r *Roles) cache(account, region string) *aws.CredentialsCache {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.creds[account]; c != nil {
		return c
	}
	c := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(r.sts, r.RoleARN(account, region), func(o *stscreds.AssumeRoleOptions) {
		// CloudTrail in the member account names the tool that read it.
		o.RoleSessionName = "pullmedic"
		if r.externalID != "" {
			o.ExternalID = aws.String(r.externalID)
		}
	}))
	r.creds[account] = c
	return c
}

// Members is the View of a hub (or of the CLI with --role-name): each task is
// read in its own account and region, through Roles.
type Members struct {
	Roles *Roles
	Opts  []Option
}

// Collect reads t's facts with its account's role. A role that cannot be
// assumed is an *AccessError; reads the role denies are in Facts.Errors.
func (m *Members) Collect(ctx context.Context, t *event.Task) (*Facts, error) {
	if t == nil {
		return nil, errors.New("collect: no task given")
	}
	cfg, err := m.Roles.Config(ctx, t.Account, t.Region)
	if err != nil {
		return nil, err
	}
	return NewLive(cfg, m.Opts...).Collect(ctx, t)
}

// deniedCodes are the error codes of a read the caller may not make.
var deniedCodes = []string{"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess"}

// Denied returns the failed reads of f that were refused for lack of
// permission (the collector records them as "API: CODE: message"), sorted:
// a role that denies a read is a notice of its own, "cannot read account X".
func Denied(f *Facts) []string {
	var out []string
	for src, msg := range f.Errors {
		for part := range strings.SplitSeq(msg, "; ") {
			if _, rest, ok := strings.Cut(part, ": "); ok {
				code, _, _ := strings.Cut(rest, ": ")
				if slices.Contains(deniedCodes, code) {
					out = append(out, string(src)+": "+part)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// Unreadable is the facts of a task whose account could not be read at all:
// every read failed with err, so every rule reports the reason as an error
// instead of a verdict.
func Unreadable(t *event.Task, err error) *Facts {
	f := &Facts{Task: t, Snapshot: Snapshot{Schema: SchemaV1, Account: t.Account, Region: t.Region}}
	for _, src := range allSources {
		f.Fail(src, err)
	}
	return f
}

// allSources are every Source a rule may need.
var allSources = []Source{
	SrcCluster, SrcService, SrcTask, SrcTaskDefinition, SrcSubnet, SrcEndpointSubnets, SrcVPC, SrcVPCAttributes,
	SrcRouteTables, SrcInternetGateways, SrcNATGateways, SrcVPCEndpoints, SrcSecurityGroups, SrcNetworkACLs,
	SrcDHCPOptions, SrcNetworkInterfaces, SrcPrefixLists, SrcRole, SrcRolePolicies, SrcRepository, SrcImages,
	SrcRepositoryPolicy, SrcPullThroughCache, SrcImageManifests, SrcSecrets,
}

// OrganizationsAPI is the Organizations call that proves membership.
type OrganizationsAPI interface {
	DescribeOrganization(ctx context.Context, in *organizations.DescribeOrganizationInput, opts ...func(*organizations.Options)) (*organizations.DescribeOrganizationOutput, error)
}

// memberFor is how long a proven membership is trusted: as long as the
// credentials that proved it, at most.
const memberFor = time.Hour

// Admitter decides whether a hub serves an account: an error wrapping
// ErrNotMember refuses it; an *AccessError means its role cannot be assumed,
// which the diagnosis then reports. *Admission implements it; tests fake it.
type Admitter interface {
	Admit(ctx context.Context, account string) error
}

// Admission decides which accounts a hub serves: those listed, and those of
// the organization. The bus policy refuses everyone else at the door; this
// check is for events that did not come through it (a direct invoke).
type Admission struct {
	Organization string   // "o-…", or ""
	Accounts     []string // account IDs
	// Roles reads a candidate account's organization with its own role:
	// any member account may describe its organization, and only the
	// account's owner can make its role trust the hub.
	Roles *Roles
	// Organizations builds the client from the account's config; nil means the SDK's.
	Organizations func(aws.Config) OrganizationsAPI
	Now           func() time.Time

	mu     sync.Mutex
	proven map[string]time.Time // account -> membership proven until
}

// Admit returns nil for an account the hub serves, an error wrapping
// ErrNotMember for one it does not (or whose membership its role may not
// show), an *AccessError when the account's role cannot be assumed, and
// another error when the check itself failed.
func (a *Admission) Admit(ctx context.Context, account string) error {
	if slices.Contains(a.Accounts, account) {
		return nil
	}
	if a.Organization == "" {
		return fmt.Errorf("account %q is not in the hub's account list: %w", account, ErrNotMember)
	}
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	a.mu.Lock()
	until, ok := a.proven[account]
	a.mu.Unlock()
	if ok && now.Before(until) {
		return nil
	}
	cfg, err := a.Roles.Config(ctx, account, "")
	if err != nil {
		return err
	}
	newClient := a.Organizations
	if newClient == nil {
		newClient = func(c aws.Config) OrganizationsAPI { return organizations.NewFromConfig(c) }
	}
	out, err := newClient(cfg).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	switch {
	case errorCode(err) == "AWSOrganizationsNotInUseException":
		return fmt.Errorf("account %s belongs to no organization: %w", account, ErrNotMember)
	case slices.Contains(deniedCodes, errorCode(err)):
		// Unproven is refused: the member stack grants this call whenever
		// it is given the organization.
		return fmt.Errorf("account %s: its role may not describe its organization (%w): %w", account, err, ErrNotMember)
	case err != nil:
		// Neither proven nor refused (throttled, unreachable): the caller
		// fails, and Lambda retries the event.
		return fmt.Errorf("check the organization of account %s: %w", account, err)
	}
	if got := aws.ToString(out.Organization.Id); got != a.Organization {
		return fmt.Errorf("account %s belongs to organization %s, not %s: %w", account, got, a.Organization, ErrNotMember)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.proven == nil {
		a.proven = map[string]time.Time{}
	}
	a.proven[account] = now.Add(memberFor)
	return nil
}

// Hub is how a function reaches the accounts it serves: Roles to act in
// them, and in hub mode the Admission that says which accounts those are.
type Hub struct {
	Roles     *Roles
	Admission *Admission // nil in single-account mode
}

// HubFromEnv reads the settings template.yaml gives both functions in hub
// mode: the role named by the variable roleVar, ORGANIZATION_ID,
// MEMBER_ACCOUNTS (comma-separated) and MEMBER_EXTERNAL_ID. Without the
// role it is single-account mode: the function's own credentials, every
// event admitted. A hub that admits nobody is a configuration error.
func HubFromEnv(cfg aws.Config, roleVar string) (Hub, error) {
	roles := NewRoles(cfg, os.Getenv(roleVar), os.Getenv("MEMBER_EXTERNAL_ID"))
	org, list := os.Getenv("ORGANIZATION_ID"), os.Getenv("MEMBER_ACCOUNTS")
	if !roles.Assumes() {
		return Hub{Roles: roles}, nil
	}
	var accounts []string
	for a := range strings.SplitSeq(list, ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		if !accountID.MatchString(a) {
			return Hub{}, fmt.Errorf("MEMBER_ACCOUNTS: %q is not an account ID", a)
		}
		accounts = append(accounts, a)
	}
	if org == "" && len(accounts) == 0 {
		return Hub{}, fmt.Errorf("%s is set (hub mode) but neither ORGANIZATION_ID nor MEMBER_ACCOUNTS is", roleVar)
	}
	return Hub{Roles: roles, Admission: &Admission{Organization: org, Accounts: accounts, Roles: roles}}, nil
}
