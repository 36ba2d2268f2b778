package fix

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
)

// EC2API is the part of the EC2 client the live writer uses: it adds rules,
// and finds the rules that already hold a permission it was asked to add.
type EC2API interface {
	AuthorizeSecurityGroupIngress(ctx context.Context, in *ec2.AuthorizeSecurityGroupIngressInput, opts ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error)
	AuthorizeSecurityGroupEgress(ctx context.Context, in *ec2.AuthorizeSecurityGroupEgressInput, opts ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupEgressOutput, error)
	ec2.DescribeSecurityGroupRulesAPIClient
}

// EC2RevokeAPI is the part of the EC2 client only undo uses.
type EC2RevokeAPI interface {
	RevokeSecurityGroupIngress(ctx context.Context, in *ec2.RevokeSecurityGroupIngressInput, opts ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error)
	RevokeSecurityGroupEgress(ctx context.Context, in *ec2.RevokeSecurityGroupEgressInput, opts ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupEgressOutput, error)
}

// ECSAPI is the part of the ECS client the live writer uses. It reads the
// service right before it updates it (see Writer.SetServicePublicIP).
type ECSAPI interface {
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, opts ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, opts ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
}

// LiveWriter changes a live account through the SDK.
type LiveWriter struct {
	EC2 EC2API
	ECS ECSAPI
}

// NewLiveWriter returns a writer using clients built from cfg, whose region
// must be the task's (the event's).
func NewLiveWriter(cfg aws.Config) *LiveWriter {
	return &LiveWriter{EC2: ec2.NewFromConfig(cfg), ECS: ecs.NewFromConfig(cfg)}
}

// LiveUndoer is a LiveWriter that can revoke too.
type LiveUndoer struct {
	*LiveWriter
	Revoke EC2RevokeAPI
}

// NewLiveUndoer returns an undoer using clients built from cfg.
func NewLiveUndoer(cfg aws.Config) *LiveUndoer {
	return &LiveUndoer{LiveWriter: NewLiveWriter(cfg), Revoke: ec2.NewFromConfig(cfg)}
}

// Error codes that mean "already in that state".
var alreadyCodes = map[string]bool{
	"InvalidPermission.Duplicate":         true, // authorize: the rule exists
	"InvalidPermission.NotFound":          true, // revoke: the rule is gone
	"InvalidSecurityGroupRuleId.NotFound": true, // revoke by ID: the rule is gone
}

// classify turns an "already in that state" API error into ErrAlreadyInState.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && alreadyCodes[ae.ErrorCode()] {
		return fmt.Errorf("%s: %s: %w", op, ae.ErrorCode(), ErrAlreadyInState)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func ruleIDs(rules []ec2types.SecurityGroupRule) []string {
	ids := make([]string, 0, len(rules))
	for _, r := range rules {
		ids = append(ids, aws.ToString(r.SecurityGroupRuleId))
	}
	return ids
}

func (w *LiveWriter) AuthorizeIngress(ctx context.Context, groupID string, perm ec2types.IpPermission) ([]string, error) {
	out, err := w.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: aws.String(groupID), IpPermissions: []ec2types.IpPermission{perm},
	})
	if err != nil {
		return w.existing(ctx, groupID, false, perm, classify("AuthorizeSecurityGroupIngress "+groupID, err))
	}
	return ruleIDs(out.SecurityGroupRules), nil
}

func (w *LiveWriter) AuthorizeEgress(ctx context.Context, groupID string, perm ec2types.IpPermission) ([]string, error) {
	out, err := w.EC2.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{
		GroupId: aws.String(groupID), IpPermissions: []ec2types.IpPermission{perm},
	})
	if err != nil {
		return w.existing(ctx, groupID, true, perm, classify("AuthorizeSecurityGroupEgress "+groupID, err))
	}
	return ruleIDs(out.SecurityGroupRules), nil
}

// existing returns, with an ErrAlreadyInState error, the IDs of the group's
// rules that hold perm; any other error comes back as it is.
func (w *LiveWriter) existing(ctx context.Context, groupID string, egress bool, perm ec2types.IpPermission, err error) ([]string, error) {
	if !errors.Is(err, ErrAlreadyInState) {
		return nil, err
	}
	p := ec2.NewDescribeSecurityGroupRulesPaginator(w.EC2, &ec2.DescribeSecurityGroupRulesInput{
		Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: []string{groupID}}},
	})
	var ids []string
	for p.HasMorePages() {
		page, perr := p.NextPage(ctx)
		if perr != nil {
			return nil, fmt.Errorf("%w; and the existing rule could not be read: DescribeSecurityGroupRules %s: %w", err, groupID, perr)
		}
		for _, r := range page.SecurityGroupRules {
			if aws.ToBool(r.IsEgress) == egress && holds(r, perm) {
				ids = append(ids, aws.ToString(r.SecurityGroupRuleId))
			}
		}
	}
	return ids, err
}

// holds reports whether a security group rule is the single-peer permission perm.
func holds(r ec2types.SecurityGroupRule, perm ec2types.IpPermission) bool {
	if aws.ToString(r.IpProtocol) != aws.ToString(perm.IpProtocol) ||
		aws.ToInt32(r.FromPort) != aws.ToInt32(perm.FromPort) || aws.ToInt32(r.ToPort) != aws.ToInt32(perm.ToPort) {
		return false
	}
	switch {
	case len(perm.UserIdGroupPairs) > 0:
		return r.ReferencedGroupInfo != nil && aws.ToString(r.ReferencedGroupInfo.GroupId) == aws.ToString(perm.UserIdGroupPairs[0].GroupId)
	case len(perm.PrefixListIds) > 0:
		return aws.ToString(r.PrefixListId) == aws.ToString(perm.PrefixListIds[0].PrefixListId)
	case len(perm.IpRanges) > 0:
		return aws.ToString(r.CidrIpv4) == aws.ToString(perm.IpRanges[0].CidrIp)
	}
	return false
}

func (w *LiveUndoer) RevokeIngress(ctx context.Context, groupID string, ids []string) error {
	_, err := w.Revoke.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{
		GroupId: aws.String(groupID), SecurityGroupRuleIds: ids,
	})
	return classify("RevokeSecurityGroupIngress "+groupID, err)
}

func (w *LiveUndoer) RevokeEgress(ctx context.Context, groupID string, ids []string) error {
	_, err := w.Revoke.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{
		GroupId: aws.String(groupID), SecurityGroupRuleIds: ids,
	})
	return classify("RevokeSecurityGroupEgress "+groupID, err)
}

func (w *LiveWriter) SetServicePublicIP(ctx context.Context, cluster, service string, assign ecstypes.AssignPublicIp) (before, after *ecstypes.AwsVpcConfiguration, err error) {
	out, err := w.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{service}})
	if err != nil {
		return nil, nil, fmt.Errorf("DescribeServices %s: %w", service, err)
	}
	if len(out.Services) != 1 || aws.ToString(out.Services[0].Status) == "INACTIVE" {
		return nil, nil, fmt.Errorf("service %s of cluster %s not found", service, cluster)
	}
	before, after, err = withPublicIP(service, out.Services[0].NetworkConfiguration, assign)
	if err != nil {
		return before, after, err
	}
	_, err = w.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{
		Cluster: aws.String(cluster), Service: aws.String(service),
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: after},
	})
	return before, after, classify("UpdateService "+service, err)
}
