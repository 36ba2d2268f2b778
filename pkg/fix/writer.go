package fix

import (
	"context"
	"errors"
	"fmt"
	"slices"

	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Writer is every change pullmedic can make, and nothing else. The diagnosis
// path never holds one, so it cannot write even by mistake; the remediate
// function holds only a Writer, so it cannot revoke either.
type Writer interface {
	// AuthorizeIngress and AuthorizeEgress add one permission to a security
	// group and return the IDs of the security group rules they created.
	// When the permission exists already they return ErrAlreadyInState with
	// the IDs of the rules that hold it, so that a retried write that went
	// through the first time can still be recorded and undone.
	AuthorizeIngress(ctx context.Context, groupID string, perm ec2types.IpPermission) ([]string, error)
	AuthorizeEgress(ctx context.Context, groupID string, perm ec2types.IpPermission) ([]string, error)
	// SetServicePublicIP sets a service's assignPublicIp and nothing else: it
	// reads the service's awsvpc configuration at the time of the write and
	// writes it back with only that field changed, so subnets and security
	// groups changed since the diagnosis (or since the fix, for undo) stay.
	// It returns the configuration before and after.
	SetServicePublicIP(ctx context.Context, cluster, service string, assign ecstypes.AssignPublicIp) (before, after *ecstypes.AwsVpcConfiguration, err error)
}

// Undoer is a Writer that can also take back what it added: a person's
// `pullmedic undo`, never a Lambda function.
type Undoer interface {
	Writer
	// RevokeIngress and RevokeEgress remove exactly the rules named.
	RevokeIngress(ctx context.Context, groupID string, ruleIDs []string) error
	RevokeEgress(ctx context.Context, groupID string, ruleIDs []string) error
}

// ErrAlreadyInState is returned (wrapped) by a Writer when the account already
// is as asked: the permission exists, or the rule to revoke is gone. Callers
// count it as success, which makes every action idempotent.
var ErrAlreadyInState = errors.New("already in that state")

// withPublicIP is a service's awsvpc configuration before and after setting
// assignPublicIp; ErrAlreadyInState when it already has that value.
func withPublicIP(service string, nc *ecstypes.NetworkConfiguration, assign ecstypes.AssignPublicIp) (before, after *ecstypes.AwsVpcConfiguration, err error) {
	if nc == nil || nc.AwsvpcConfiguration == nil {
		return nil, nil, fmt.Errorf("service %s has no awsvpc network configuration", service)
	}
	b := *nc.AwsvpcConfiguration
	if b.AssignPublicIp == assign {
		return &b, &b, fmt.Errorf("service %s: assignPublicIp is %q: %w", service, assign, ErrAlreadyInState)
	}
	a := b
	a.Subnets, a.SecurityGroups, a.AssignPublicIp = slices.Clone(b.Subnets), slices.Clone(b.SecurityGroups), assign
	return &b, &a, nil
}
