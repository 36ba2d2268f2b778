package account

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// roleReads read the execution role in the shape of GetAccountAuthorizationDetails:
// GetRole and the two policy lists, then each policy's document: an inline
// policy's with GetRolePolicy, a managed policy's default version with
// GetPolicyVersion (after GetPolicy only when the account's listing did not
// name the version, see listPolicies). Documents are kept as the API returns them.
func (c *collector) roleReads(arn string) []read {
	name := arn[strings.LastIndex(arn, "/")+1:]
	c.role = &iamtypes.RoleDetail{Arn: aws.String(arn), RoleName: aws.String(name)}
	c.policies = map[string]*iamtypes.ManagedPolicyDetail{}
	return []read{
		gate(func(ctx context.Context) []read { return c.getRole(ctx, name) }),
		gate(func(ctx context.Context) []read { return c.listAttachedPolicies(ctx, name) }),
		gate(func(ctx context.Context) []read { return c.listInlinePolicies(ctx, name) }),
	}
}

// A role that does not exist is absent, not a failure: iam.execution-role judges that.
const noSuchEntity = "NoSuchEntity"

func (c *collector) getRole(ctx context.Context, name string) []read {
	out, err := c.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err == nil && out.Role == nil {
		err = notFound("role " + name)
	}
	if errorCode(err) == noSuchEntity && c.profile != nil {
		c.fail(SrcRole, "iam:GetRole", fmt.Errorf("instance profile %s: no role is named %s like it, and the profile's role is not read otherwise (iam:GetInstanceProfile)",
			aws.ToString(c.profile.Arn), name))
		return nil
	}
	if errorCode(err) == noSuchEntity {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.roleMissing = true
		return nil
	}
	if !c.check(SrcRole, "iam:GetRole", err) {
		return nil
	}
	r := out.Role
	c.mu.Lock()
	defer c.mu.Unlock()
	c.role.Arn, c.role.RoleName, c.role.RoleId, c.role.Path = r.Arn, r.RoleName, r.RoleId, r.Path
	c.role.CreateDate, c.role.Tags, c.role.RoleLastUsed = r.CreateDate, r.Tags, r.RoleLastUsed
	c.role.AssumeRolePolicyDocument = r.AssumeRolePolicyDocument
	c.role.PermissionsBoundary = r.PermissionsBoundary
	if b := r.PermissionsBoundary; b != nil {
		return c.policyReads(aws.ToString(b.PermissionsBoundaryArn))
	}
	return nil
}

func (c *collector) listAttachedPolicies(ctx context.Context, name string) []read {
	attached, err := allPages(ctx, iam.NewListAttachedRolePoliciesPaginator(c.iam, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name), MaxItems: c.l.maxResults()}),
		func(o *iam.ListAttachedRolePoliciesOutput) []iamtypes.AttachedPolicy { return o.AttachedPolicies })
	if !c.check(SrcRolePolicies, "iam:ListAttachedRolePolicies", err, noSuchEntity) {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.role.AttachedManagedPolicies = attached
	var next []read
	for _, p := range attached {
		next = append(next, c.policyReads(aws.ToString(p.PolicyArn))...)
	}
	return next
}

func (c *collector) listInlinePolicies(ctx context.Context, role string) []read {
	names, err := allPages(ctx, iam.NewListRolePoliciesPaginator(c.iam, &iam.ListRolePoliciesInput{RoleName: aws.String(role), MaxItems: c.l.maxResults()}),
		func(o *iam.ListRolePoliciesOutput) []string { return o.PolicyNames })
	if !c.check(SrcRolePolicies, "iam:ListRolePolicies", err, noSuchEntity) {
		return nil
	}
	var next []read
	for _, name := range names {
		next = append(next, leaf(func(ctx context.Context) { c.getRolePolicy(ctx, role, name) }))
	}
	return next
}

func (c *collector) getRolePolicy(ctx context.Context, role, name string) {
	out, err := c.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(name)})
	if !c.check(SrcRolePolicies, "iam:GetRolePolicy "+name, err) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.role.RolePolicyList = append(c.role.RolePolicyList, iamtypes.PolicyDetail{PolicyName: out.PolicyName, PolicyDocument: out.PolicyDocument})
}

// listedPolicies is how many policies the account listing asks for: IAM's
// own default page (ListPolicies, MaxItems). One page of about 100 × 0.5 KB
// costs a round trip like any other call, in a small account or a big one.
const listedPolicies = 100

// listPolicies lists, in the first round, the managed policies attached to
// anything in the account (Scope All, OnlyAttached: AWS managed and customer
// managed alike), one page only. Each entry is what GetPolicy would say,
// DefaultVersionId included, so a policy of the role found there costs
// GetPolicyVersion alone, a round earlier than GetPolicy then
// GetPolicyVersion (https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListPolicies.html).
//
// It is a shortcut, never the source of truth: a policy past the first page
// (a big account), one that is only a permissions boundary (OnlyAttached
// counts attachments only), or every policy when the listing fails or
// answers after the role's lists, is read with GetPolicy as before. So its
// failure is no finding: no fact is missing for it. Paging the listing
// instead, or GetAccountAuthorizationDetails filtered to Role and
// LocalManagedPolicy (every role and every version of every customer managed
// policy, with documents: megabytes in a big account,
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html),
// would make a diagnosis slower the bigger the account.
//
// It gates nothing itself, but is planned as a gate so that it always runs
// in the first round, before the role's lists answer.
func (c *collector) listPolicies(ctx context.Context) []read {
	out, err := c.iam.ListPolicies(ctx, &iam.ListPoliciesInput{
		Scope: iamtypes.PolicyScopeTypeAll, OnlyAttached: true, MaxItems: aws.Int32(listedPolicies),
	})
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.listed = make(map[string]iamtypes.Policy, len(out.Policies))
	for _, p := range out.Policies {
		c.listed[aws.ToString(p.Arn)] = p
	}
	return nil
}

// policyReads reads a managed policy once, however many ways the role refers
// to it: its default version straight away when the account listing named
// it, else GetPolicy first. The caller holds c.mu.
func (c *collector) policyReads(arn string) []read {
	if _, seen := c.policies[arn]; seen {
		return nil
	}
	if p, ok := c.listed[arn]; ok && aws.ToString(p.DefaultVersionId) != "" {
		c.policies[arn] = policyDetail(&p)
		return []read{c.policyVersionRead(arn, aws.ToString(p.DefaultVersionId))}
	}
	c.policies[arn] = &iamtypes.ManagedPolicyDetail{Arn: aws.String(arn)}
	return []read{gate(func(ctx context.Context) []read { return c.getPolicy(ctx, arn) })}
}

// policyDetail records a policy as GetAccountAuthorizationDetails does.
func policyDetail(p *iamtypes.Policy) *iamtypes.ManagedPolicyDetail {
	return &iamtypes.ManagedPolicyDetail{
		Arn: p.Arn, PolicyName: p.PolicyName, PolicyId: p.PolicyId, Path: p.Path,
		DefaultVersionId: p.DefaultVersionId, Description: p.Description, IsAttachable: p.IsAttachable,
		AttachmentCount: p.AttachmentCount, PermissionsBoundaryUsageCount: p.PermissionsBoundaryUsageCount,
		CreateDate: p.CreateDate, UpdateDate: p.UpdateDate,
	}
}

func (c *collector) getPolicy(ctx context.Context, arn string) []read {
	out, err := c.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err == nil && out.Policy == nil {
		err = notFound("policy " + arn)
	}
	ok := c.check(SrcRolePolicies, "iam:GetPolicy "+arn, err)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !ok {
		delete(c.policies, arn) // no half-read policy in the facts
		return nil
	}
	c.policies[arn] = policyDetail(out.Policy)
	return []read{c.policyVersionRead(arn, aws.ToString(out.Policy.DefaultVersionId))}
}

func (c *collector) policyVersionRead(arn, version string) read {
	return leaf(func(ctx context.Context) { c.getPolicyVersion(ctx, arn, version) })
}

func (c *collector) getPolicyVersion(ctx context.Context, arn, version string) {
	out, err := c.iam.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String(version)})
	if err == nil && out.PolicyVersion == nil {
		err = notFound("version " + version + " of " + arn)
	}
	if !c.check(SrcRolePolicies, "iam:GetPolicyVersion "+arn, err) {
		return
	}
	v := *out.PolicyVersion
	v.IsDefaultVersion = true // it is the version GetPolicy named the default
	c.mu.Lock()
	defer c.mu.Unlock()
	c.policies[arn].PolicyVersionList = []iamtypes.PolicyVersion{v}
}

// instanceRoleReads read the role of the instance's instance profile, which
// the agent pulls with when the task definition has no execution role. The
// instance names only the profile; the role is read as the role of the same
// name, the convention of the ECS console's ecsInstanceRole and of roles made
// for EC2 in the IAM console (one profile per role, named alike). Asking IAM
// (iam:GetInstanceProfile) would cost a grant and a round of its own before
// the role's three, past the four rounds a diagnosis takes; a profile whose
// role is named otherwise is a failed read that says so, never a guess.
func (c *collector) instanceRoleReads(in ec2types.Instance) []read {
	p := in.IamInstanceProfile
	if p == nil || aws.ToString(p.Arn) == "" {
		return nil // no profile, no role: iam.ecr-pull judges that from the instance
	}
	parsed, err := arn.Parse(aws.ToString(p.Arn))
	if err != nil {
		c.fail(SrcRole, "ec2:DescribeInstances", fmt.Errorf("instance profile ARN %q: %w", aws.ToString(p.Arn), err))
		return nil
	}
	name := parsed.Resource[strings.LastIndex(parsed.Resource, "/")+1:]
	c.profile = p
	return c.roleReads(fmt.Sprintf("arn:%s:iam::%s:role/%s", parsed.Partition, parsed.AccountID, name))
}
