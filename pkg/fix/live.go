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

// EC2API is the part of the EC2 client the live writer uses.
type EC2API interface {
	AuthorizeSecurityGroupIngress(ctx context.Context, in *ec2.AuthorizeSecurityGroupIngressInput, opts ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error)
	AuthorizeSecurityGroupEgress(ctx context.Context, in *ec2.AuthorizeSecurityGroupEgressInput, opts ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupEgressOutput, error)
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
		return nil, classify("AuthorizeSecurityGroupIngress "+groupID, err)
	}
	return ruleIDs(out.SecurityGroupRules), nil
}

func (w *LiveWriter) AuthorizeEgress(ctx context.Context, groupID string, perm ec2types.IpPermission) ([]string, error) {
	out, err := w.EC2.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{
		GroupId: aws.String(groupID), IpPermissions: []ec2types.IpPermission{perm},
	})
	if err != nil {
		return nil, classify("AuthorizeSecurityGroupEgress "+groupID, err)
	}
	return ruleIDs(out.SecurityGroupRules), nil
}

func (w *LiveWriter) RevokeIngress(ctx context.Context, groupID string, ids []string) error {
	_, err := w.EC2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{
		GroupId: aws.String(groupID), SecurityGroupRuleIds: ids,
	})
	return classify("RevokeSecurityGroupIngress "+groupID, err)
}

func (w *LiveWriter) RevokeEgress(ctx context.Context, groupID string, ids []string) error {
	_, err := w.EC2.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{
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
