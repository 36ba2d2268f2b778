package account_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/pullmedic/pullmedic/internal/motoserver"
	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/account/awscount"
	"github.com/pullmedic/pullmedic/pkg/event"
)

// The repositories of the full and the typical task's images.
var (
	appRepo = account.RepoKey{Account: accountID, Region: imageRegion, Name: "app"}
	webRepo = account.RepoKey{Account: accountID, Region: taskRegion, Name: "web"}
)

func collect(t *testing.T, v account.View, task *event.Task) *account.Facts {
	t.Helper()
	f, err := v.Collect(context.Background(), task)
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	return f
}

func errorSources(f *account.Facts) []account.Source {
	return slices.Sorted(maps.Keys(f.Errors))
}

func wantErrors(t *testing.T, f *account.Facts, want ...account.Source) {
	t.Helper()
	slices.Sort(want)
	if got := errorSources(f); !slices.Equal(got, want) {
		t.Errorf("error sources = %v, want %v; errors: %v", got, want, f.Errors)
	}
}

func ids[T any](items []T, id func(T) *string) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, aws.ToString(id(it)))
	}
	slices.Sort(out)
	return out
}

func sorted(s ...string) []string { slices.Sort(s); return s }

// decodePolicy reads a policy document the way rules must: URL-encoded or not.
func decodePolicy(t *testing.T, doc string) map[string]any {
	t.Helper()
	if d, err := url.QueryUnescape(doc); err == nil {
		doc = d
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatalf("policy document %q: %v", doc, err)
	}
	return m
}

// TestCollect runs every read-only case against one seeded account.
func TestCollect(t *testing.T) {
	fx := seed(t)
	t.Run("full", func(t *testing.T) { testFull(t, fx) })
	t.Run("variations", func(t *testing.T) { testVariations(t, fx) })
	t.Run("read failures", func(t *testing.T) { testReadFailures(t, fx) })
	t.Run("rounds", func(t *testing.T) { testRounds(t, fx) })
	t.Run("policy listing", func(t *testing.T) { testPolicyListing(t, fx) })
}

func testFull(t *testing.T, fx *fixture) {
	f := collect(t, account.NewLive(fx.cfg), fx.full())
	wantErrors(t, f)

	if f.Region != taskRegion || f.Account != accountID || f.Schema != account.SchemaV1 {
		t.Errorf("header = %q %q %q", f.Schema, f.Account, f.Region)
	}
	// Network: only the task's VPC, every kind of resource in it.
	e := f.EC2
	check := func(what string, got, want []string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	check("subnets", ids(e.Subnets, subnetID), []string{fx.private})
	check("vpcs", ids(e.Vpcs, vpcID), []string{fx.vpc})
	check("dhcp options", ids(e.DhcpOptions, dhcpID), []string{fx.dhcp})
	check("route tables", ids(e.RouteTables, routeTableID), sorted(fx.mainRT, fx.privateRT, fx.publicRT))
	check("nat gateways", ids(e.NatGateways, natID), []string{fx.nat})
	check("internet gateways", ids(e.InternetGateways, igwID), []string{fx.igw})
	check("vpc endpoints", ids(e.VpcEndpoints, endpointID), sorted(fx.endpoints...))
	check("network interfaces", ids(e.NetworkInterfaces, eniID), []string{fx.eni})
	if len(e.PrefixLists) != 1 || aws.ToString(e.PrefixLists[0].PrefixListName) != "com.amazonaws."+taskRegion+".s3" {
		t.Errorf("prefix lists = %+v, want the region's S3 list", e.PrefixLists)
	}
	for _, g := range e.SecurityGroups {
		if aws.ToString(g.VpcId) != fx.vpc {
			t.Errorf("security group %s of VPC %s collected", aws.ToString(g.GroupId), aws.ToString(g.VpcId))
		}
	}
	if f.SecurityGroup(fx.taskSG) == nil || f.SecurityGroup(fx.endSG) == nil || len(e.SecurityGroups) != 3 {
		t.Errorf("security groups = %v, want task, endpoints and default", ids(e.SecurityGroups, sgID))
	}
	if rt, main := f.RouteTableFor(fx.private); rt == nil || main || aws.ToString(rt.RouteTableId) != fx.privateRT {
		t.Errorf("route table of the task subnet = %v (main %v), want %s", rt, main, fx.privateRT)
	}
	if acl, def := f.NetworkACLFor(fx.private); acl == nil || def || aws.ToString(acl.NetworkAclId) != fx.nacl {
		t.Errorf("network ACL of the task subnet = %v (default %v), want %s", acl, def, fx.nacl)
	}
	if !f.DNSSupport(fx.vpc) || !f.DNSHostnames(fx.vpc) {
		t.Errorf("VPC attributes = %+v, want DNS support and hostnames on", e.VpcAttributes[fx.vpc])
	}
	if a := e.VpcAttributes[fx.vpc]; a.EnableDnsSupport == nil || a.EnableDnsHostnames == nil {
		t.Errorf("VPC attributes not recorded: %+v", a)
	}

	// ECS: the task aged out (MISSING is no error); cluster, service and task definition are there.
	if len(f.ECS.Tasks) != 0 {
		t.Errorf("tasks = %d, want none (moto has no tasks)", len(f.ECS.Tasks))
	}
	if v, ok := f.ClusterTag(autoFixTag); !ok || v != "enabled" {
		t.Errorf("cluster tag %s = %q, %v", autoFixTag, v, ok)
	}
	if cfg, ok := f.AwsVpcConfiguration(); !ok || !slices.Equal(cfg.SecurityGroups, []string{fx.taskSG}) {
		t.Errorf("service network configuration = %+v, %v", cfg, ok)
	}
	if td := f.TaskDefinition(); td == nil || aws.ToString(td.ExecutionRoleArn) != fx.fullRole {
		t.Errorf("task definition = %v", td)
	}

	// IAM: the role as GetAccountAuthorizationDetails shows it, documents decodable.
	role := f.Role(fx.fullRole)
	if role == nil {
		t.Fatalf("role %s not collected: %+v", fx.fullRole, f.IAM)
	}
	if p := decodePolicy(t, aws.ToString(role.AssumeRolePolicyDocument)); p["Statement"] == nil {
		t.Errorf("trust policy = %v", p)
	}
	if len(role.RolePolicyList) != 1 || aws.ToString(role.RolePolicyList[0].PolicyName) != fx.inlinePolicy ||
		!strings.Contains(aws.ToString(role.RolePolicyList[0].PolicyDocument), "secretsmanager") {
		t.Errorf("inline policies = %+v", role.RolePolicyList)
	} else {
		decodePolicy(t, aws.ToString(role.RolePolicyList[0].PolicyDocument))
	}
	check("attached policies", ids(role.AttachedManagedPolicies, attachedArn), []string{fx.pullPolicy})
	if b := role.PermissionsBoundary; b == nil || aws.ToString(b.PermissionsBoundaryArn) != fx.boundaryPolicy {
		t.Errorf("permissions boundary = %+v", b)
	}
	check("managed policies", ids(f.IAM.Policies, policyArn), sorted(fx.pullPolicy, fx.boundaryPolicy))
	for _, arn := range []string{fx.pullPolicy, fx.boundaryPolicy} {
		p := f.ManagedPolicy(arn)
		doc, ok := account.DefaultPolicyDocument(p)
		if !ok || decodePolicy(t, doc)["Statement"] == nil || aws.ToString(p.PolicyName) == "" {
			t.Errorf("policy %s: default document %q, %v", arn, doc, ok)
		}
	}

	// ECR, read in the image's region.
	if r := f.Repository(appRepo); r == nil {
		t.Errorf("repository app not collected: %+v", f.ECR.Repositories)
	}
	if imgs := f.Images(appRepo); len(imgs) != 1 || !slices.Contains(imgs[0].ImageTags, "1.0") {
		t.Errorf("images of app = %+v", imgs)
	}
	if p := f.RepositoryPolicy(appRepo); !strings.Contains(p, "ecr:BatchGetImage") {
		t.Errorf("repository policy = %q", p)
	}

	// Secrets: the JSON-key suffix of valueFrom is not part of the secret's ID.
	check("secrets", ids(f.Secrets.SecretsManager, secretArn), []string{fx.secretArn})
	check("parameters", ids(f.Secrets.SSMParameters, parameterName), sorted(paramName, logParam))
}

// Variations of the event against the same account: what is absent is
// absent, and only what a rule cannot do without is an error.
func testVariations(t *testing.T, fx *fixture) {
	live := account.NewLive(fx.cfg)
	const nowhere = "subnet-0123456789abcdef0"
	tests := []struct {
		name  string
		task  func() *event.Task
		errs  []account.Source
		check func(t *testing.T, f *account.Facts)
	}{
		{
			name: "typical",
			task: fx.typical,
			check: func(t *testing.T, f *account.Facts) {
				if f.Role(fx.typicalRole) == nil || len(f.IAM.Policies) != 1 || f.Images(webRepo) == nil {
					t.Errorf("role, policies or image missing: %+v %+v", f.IAM, f.ECR)
				}
				if f.RepositoryPolicy(webRepo) != "" || len(f.Secrets.SecretsManager)+len(f.Secrets.SSMParameters) != 0 {
					t.Errorf("repository policy or secrets where there are none: %+v %+v", f.ECR, f.Secrets)
				}
			},
		},
		{
			name: "missing service",
			task: func() *event.Task { task := fx.full(); task.Service = "gone"; return task },
			errs: []account.Source{account.SrcService},
			check: func(t *testing.T, f *account.Facts) {
				if msg := f.Errors[account.SrcService]; !strings.Contains(msg, "ecs:DescribeServices: MISSING") {
					t.Errorf("service error = %q", msg)
				}
				if f.Service() != nil || f.Cluster() == nil || len(f.EC2.RouteTables) == 0 {
					t.Errorf("the rest of the facts should be there: %+v", f.ECS)
				}
			},
		},
		{
			name: "deleted ENI",
			task: func() *event.Task { task := fx.full(); task.ENIID = "eni-0123456789abcdef0"; return task },
			check: func(t *testing.T, f *account.Facts) {
				if len(f.EC2.NetworkInterfaces) != 0 {
					t.Errorf("network interfaces = %+v", f.EC2.NetworkInterfaces)
				}
			},
		},
		{
			name: "unknown repository",
			task: func() *event.Task { return fx.task(fx.fullTD, strings.Replace(fx.fullImage, "/app:", "/nope:", 1)) },
			// A missing repository brings the registry's pull-through cache
			// rules, which moto 5.2.1 cannot list (HTTP 500).
			errs: []account.Source{account.SrcPullThroughCache},
			check: func(t *testing.T, f *account.Facts) {
				if len(f.ECR.Repositories)+len(f.ECR.Images)+len(f.ECR.RepositoryPolicies) != 0 {
					t.Errorf("ECR = %+v, want nothing", f.ECR)
				}
			},
		},
		{
			name: "unknown tag",
			task: func() *event.Task { return fx.task(fx.fullTD, strings.Replace(fx.fullImage, ":1.0", ":9.9", 1)) },
			check: func(t *testing.T, f *account.Facts) {
				if f.Repository(appRepo) == nil || len(f.Images(appRepo)) != 0 {
					t.Errorf("ECR = %+v, want the repository and no image", f.ECR)
				}
			},
		},
		{
			name: "unknown subnet",
			task: func() *event.Task { task := fx.full(); task.SubnetID = nowhere; return task },
			errs: []account.Source{account.SrcSubnet, account.SrcVPC, account.SrcVPCAttributes, account.SrcRouteTables,
				account.SrcInternetGateways, account.SrcNATGateways, account.SrcVPCEndpoints, account.SrcSecurityGroups, account.SrcNetworkACLs},
			check: func(t *testing.T, f *account.Facts) {
				want := "skipped: subnet " + nowhere + " could not be read: ec2:DescribeSubnets: InvalidSubnetID.NotFound"
				if msg := f.Errors[account.SrcRouteTables]; !strings.HasPrefix(msg, want) {
					t.Errorf("route tables error = %q, want prefix %q", msg, want)
				}
				if len(f.EC2.DhcpOptions) != 0 || f.Role(fx.fullRole) == nil {
					t.Errorf("DHCP options without a VPC, or IAM missing: %+v", f.EC2.DhcpOptions)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := collect(t, live, tt.task())
			wantErrors(t, f, tt.errs...)
			tt.check(t, f)
		})
	}
}

// Fakes: a real client with one read denied.
var denied = &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User is not authorized to perform this action"}

type denyRepositories struct{ account.ECRAPI }

func (denyRepositories) DescribeRepositories(context.Context, *ecr.DescribeRepositoriesInput, ...func(*ecr.Options)) (*ecr.DescribeRepositoriesOutput, error) {
	return nil, denied
}

type denyRouteTables struct{ account.EC2API }

func (denyRouteTables) DescribeRouteTables(context.Context, *ec2.DescribeRouteTablesInput, ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "UnauthorizedOperation", Message: "You are not authorized to perform this operation."}
}

type denyRole struct{ account.IAMAPI }

func (denyRole) GetRole(context.Context, *iam.GetRoleInput, ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	return nil, denied
}

type denyTaskDefinition struct{ account.ECSAPI }

func (denyTaskDefinition) DescribeTaskDefinition(context.Context, *ecs.DescribeTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	return nil, denied
}

// policyListing answers the account's policy listing with a fault, or with
// a first page that does not name the fixture's policies (a big account).
type policyListing struct {
	account.IAMAPI
	err error
}

func (p policyListing) ListPolicies(ctx context.Context, in *iam.ListPoliciesInput, opts ...func(*iam.Options)) (*iam.ListPoliciesOutput, error) {
	if p.err != nil {
		return nil, p.err
	}
	return &iam.ListPoliciesOutput{IsTruncated: true, Marker: aws.String("page-2")}, nil
}

// The account's policy listing only saves GetPolicy: whatever it answers, the
// role's managed policies and their default versions are read, and its own
// failure is no finding.
func testPolicyListing(t *testing.T, fx *fixture) {
	for _, tt := range []struct {
		name      string
		listing   func(account.IAMAPI) account.IAMAPI // nil: moto's
		getPolicy int                                 // GetPolicy calls for the typical task
	}{
		{"listed", nil, 0},
		{"denied", func(c account.IAMAPI) account.IAMAPI { return policyListing{c, denied} }, 1},
		{"past the first page", func(c account.IAMAPI) account.IAMAPI { return policyListing{c, nil} }, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clients := account.DefaultClients()
			if tt.listing != nil {
				real := clients.IAM
				clients.IAM = func(cfg aws.Config) account.IAMAPI { return tt.listing(real(cfg)) }
			}
			calls := awscount.New()
			cfg := fx.cfg.Copy()
			calls.Attach(&cfg)
			f := collect(t, account.NewLive(cfg, account.WithClients(clients)), fx.typical())
			wantErrors(t, f)
			p := f.ManagedPolicy(fx.pullPolicy)
			if p == nil || aws.ToString(p.PolicyName) != "ecr-pull" || len(p.PolicyVersionList) != 1 || !p.PolicyVersionList[0].IsDefaultVersion ||
				aws.ToString(p.PolicyVersionList[0].VersionId) != aws.ToString(p.DefaultVersionId) {
				t.Fatalf("policy %s = %+v, want it and its default version", fx.pullPolicy, p)
			}
			if got := decodePolicy(t, aws.ToString(p.PolicyVersionList[0].Document)); fmt.Sprint(got["Statement"]) != fmt.Sprint(decodePolicy(t, pullDocument)["Statement"]) {
				t.Errorf("document = %v, want the policy's", got)
			}
			if got := calls.Count("GetPolicy"); got != tt.getPolicy {
				t.Errorf("GetPolicy called %d times, want %d", got, tt.getPolicy)
			}
		})
	}
}

func testReadFailures(t *testing.T, fx *fixture) {
	tests := []struct {
		name  string
		fake  func(*account.Clients)
		errs  []account.Source
		msg   string // the error of the first source starts with it
		still func(f *account.Facts) bool
	}{
		{
			name: "repository denied",
			fake: func(c *account.Clients) {
				real := c.ECR
				c.ECR = func(cfg aws.Config) account.ECRAPI { return denyRepositories{real(cfg)} }
			},
			errs:  []account.Source{account.SrcRepository},
			msg:   "ecr:DescribeRepositories app: AccessDeniedException: User is not authorized",
			still: func(f *account.Facts) bool { return len(f.Images(appRepo)) == 1 && len(f.EC2.RouteTables) == 3 },
		},
		{
			name: "route tables denied",
			fake: func(c *account.Clients) {
				real := c.EC2
				c.EC2 = func(cfg aws.Config) account.EC2API { return denyRouteTables{real(cfg)} }
			},
			errs:  []account.Source{account.SrcRouteTables},
			msg:   "ec2:DescribeRouteTables: UnauthorizedOperation: You are not authorized",
			still: func(f *account.Facts) bool { return len(f.EC2.RouteTables) == 0 && len(f.EC2.SecurityGroups) == 3 },
		},
		{
			name: "role denied",
			fake: func(c *account.Clients) {
				real := c.IAM
				c.IAM = func(cfg aws.Config) account.IAMAPI { return denyRole{real(cfg)} }
			},
			errs: []account.Source{account.SrcRole},
			msg:  "iam:GetRole: AccessDeniedException",
			still: func(f *account.Facts) bool {
				r := f.Role(fx.fullRole)
				return r != nil && len(r.RolePolicyList) == 1 && len(f.IAM.Policies) == 1 // no boundary known
			},
		},
		{
			name: "task definition denied",
			fake: func(c *account.Clients) {
				real := c.ECS
				c.ECS = func(cfg aws.Config) account.ECSAPI { return denyTaskDefinition{real(cfg)} }
			},
			errs: []account.Source{account.SrcTaskDefinition, account.SrcRole, account.SrcRolePolicies, account.SrcSecrets},
			msg:  "ecs:DescribeTaskDefinition: AccessDeniedException",
			still: func(f *account.Facts) bool {
				return strings.HasPrefix(f.Errors[account.SrcRole], "skipped: task definition "+fx.fullTD+" could not be read: ecs:DescribeTaskDefinition: AccessDeniedException") &&
					len(f.IAM.RoleDetailList) == 0 && f.Service() != nil && len(f.ECR.Repositories) == 1
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clients := account.DefaultClients()
			tt.fake(&clients)
			f := collect(t, account.NewLive(fx.cfg, account.WithClients(clients)), fx.full())
			wantErrors(t, f, tt.errs...)
			if msg := f.Errors[tt.errs[0]]; !strings.HasPrefix(msg, tt.msg) {
				t.Errorf("error of %s = %q, want prefix %q", tt.errs[0], msg, tt.msg)
			}
			if !tt.still(f) {
				t.Errorf("the other reads did not fill the facts as expected: %+v", f.Snapshot)
			}
		})
	}
}

// pagingSecurityGroups pages DescribeSecurityGroups as EC2 does, which moto
// does not: every page is one real call, cut to MaxResults, the offset as NextToken.
type pagingSecurityGroups struct{ account.EC2API }

func (p pagingSecurityGroups) DescribeSecurityGroups(ctx context.Context, in *ec2.DescribeSecurityGroupsInput, opts ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error) {
	offset, _ := strconv.Atoi(aws.ToString(in.NextToken))
	all := *in
	all.NextToken, all.MaxResults = nil, nil
	out, err := p.EC2API.DescribeSecurityGroups(ctx, &all, opts...)
	if err != nil || in.MaxResults == nil {
		return out, err
	}
	page := *out
	end := min(offset+int(*in.MaxResults), len(out.SecurityGroups))
	page.SecurityGroups = out.SecurityGroups[offset:end]
	if end < len(out.SecurityGroups) {
		page.NextToken = aws.String(strconv.Itoa(end))
	}
	return &page, nil
}

// Listings follow every page; a CallLog shows the pages. moto pages IAM
// lists itself; EC2 pages come from the fake above.
func TestCollectPaging(t *testing.T) {
	fx := seed(t)
	ctx := context.Background()
	ec2c := ec2.NewFromConfig(fx.cfg, func(o *ec2.Options) { o.Region = taskRegion })
	iamc := iam.NewFromConfig(fx.cfg)
	for i := range 30 {
		name := fmt.Sprintf("extra-%02d", i)
		if _, err := ec2c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: &fx.vpc, GroupName: &name, Description: &name}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 11 {
		p, err := iamc.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("extra-%02d", i)), PolicyDocument: aws.String(allowAll)})
		if err == nil {
			_, err = iamc.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("full-execution"), PolicyArn: p.Policy.Arn})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	calls := awscount.New()
	cfg := fx.cfg.Copy()
	calls.Attach(&cfg)
	clients := account.DefaultClients()
	real := clients.EC2
	clients.EC2 = func(c aws.Config) account.EC2API { return pagingSecurityGroups{real(c)} }

	f := collect(t, account.NewLive(cfg, account.WithPageSize(5), account.WithClients(clients)), fx.full())
	wantErrors(t, f)
	if got := len(f.EC2.SecurityGroups); got != 33 {
		t.Errorf("collected %d security groups, want 33", got)
	}
	if got := calls.Count("DescribeSecurityGroups"); got != 7 {
		t.Errorf("DescribeSecurityGroups called %d times, want 7 pages of 5", got)
	}
	if got := len(f.Role(fx.fullRole).AttachedManagedPolicies); got != 12 {
		t.Errorf("collected %d attached policies, want 12", got)
	}
	if got := calls.Count("ListAttachedRolePolicies"); got != 3 {
		t.Errorf("ListAttachedRolePolicies called %d times, want 3 pages of 5", got)
	}
	if got := len(f.IAM.Policies); got != 13 {
		t.Errorf("collected %d managed policies, want 12 attached and the boundary", got)
	}
}

// Behind a proxy that delays every call, the calls of a round overlap and the
// rounds follow one another: the CallLog shows the plan. The typical task's
// managed policy is in the account listing of round 1, so its document is
// read in round 3; the full task's boundary is attached to nothing, so it is
// not listed and takes GetPolicy then GetPolicyVersion, rounds 3 and 4.
func testRounds(t *testing.T, fx *fixture) {
	for _, tt := range []struct {
		name         string
		task         *event.Task
		calls, round int
	}{
		{"typical", fx.typical(), 25, 3},
		{"full", fx.full(), 30, 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			calls := awscount.New()
			cfg := latencyProxy(t, fx.cfg, 30*time.Millisecond)
			calls.Attach(&cfg)
			f := collect(t, account.NewLive(cfg), tt.task)
			wantErrors(t, f)
			if calls.Calls() != tt.calls || calls.Rounds() != tt.round {
				t.Errorf("%d calls in %d rounds, want %d in %d: %+v", calls.Calls(), calls.Rounds(), tt.calls, tt.round, calls.List())
			}
		})
	}
}

func TestCollectCanceled(t *testing.T) {
	live := account.NewLive(motoserver.Config(t, taskRegion))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fx := &fixture{private: "subnet-0123456789abcdef0", fullTD: "arn:aws:ecs:eu-west-1:123456789012:task-definition/x:1"}
	if f, err := live.Collect(ctx, fx.full()); err == nil {
		t.Errorf("Collect on a canceled context = %+v, want an error", f)
	}
	if _, err := live.Collect(context.Background(), nil); err == nil {
		t.Error("Collect(nil task) gave no error")
	}
}

// ID accessors for ids().
var (
	subnetID      = func(s ec2types.Subnet) *string { return s.SubnetId }
	vpcID         = func(v ec2types.Vpc) *string { return v.VpcId }
	dhcpID        = func(d ec2types.DhcpOptions) *string { return d.DhcpOptionsId }
	routeTableID  = func(r ec2types.RouteTable) *string { return r.RouteTableId }
	natID         = func(n ec2types.NatGateway) *string { return n.NatGatewayId }
	igwID         = func(g ec2types.InternetGateway) *string { return g.InternetGatewayId }
	endpointID    = func(e ec2types.VpcEndpoint) *string { return e.VpcEndpointId }
	eniID         = func(n ec2types.NetworkInterface) *string { return n.NetworkInterfaceId }
	sgID          = func(g ec2types.SecurityGroup) *string { return g.GroupId }
	attachedArn   = func(p iamtypes.AttachedPolicy) *string { return p.PolicyArn }
	policyArn     = func(p iamtypes.ManagedPolicyDetail) *string { return p.Arn }
	secretArn     = func(s smtypes.SecretListEntry) *string { return s.ARN }
	parameterName = func(p ssmtypes.ParameterMetadata) *string { return p.Name }
)

// A task that has not run yet (pullmedic preflight) has no ARN: nothing asks
// ECS to describe it, and no read fails for want of one.
func TestCollectWithoutATask(t *testing.T) {
	fx := seed(t)
	task := fx.typical()
	task.TaskArn, task.ENIID = "", ""
	calls := awscount.New()
	cfg := fx.cfg.Copy()
	calls.Attach(&cfg)
	f := collect(t, account.NewLive(cfg), task)
	wantErrors(t, f)
	if n := calls.Count("DescribeTasks"); n != 0 {
		t.Errorf("DescribeTasks called %d times for a task that has not run", n)
	}
	if calls.Count("DescribeServices") != 1 {
		t.Errorf("the service was not read: %d DescribeServices", calls.Count("DescribeServices"))
	}
}
