package fix

import (
	"context"
	"errors"

	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Writer is every change pullmedic can make, and nothing else. The diagnosis
// path never holds one, so it cannot write even by mistake.
type Writer interface {
	// AuthorizeIngress and AuthorizeEgress add one permission to a security
	// group and return the IDs of the security group rules they created.
	AuthorizeIngress(ctx context.Context, groupID string, perm ec2types.IpPermission) ([]string, error)
	AuthorizeEgress(ctx context.Context, groupID string, perm ec2types.IpPermission) ([]string, error)
	// RevokeIngress and RevokeEgress remove exactly the rules named.
	RevokeIngress(ctx context.Context, groupID string, ruleIDs []string) error
	RevokeEgress(ctx context.Context, groupID string, ruleIDs []string) error
	// UpdateServicePublicIP sets a service's awsvpc configuration. Callers pass
	// the current one with only AssignPublicIp changed.
	UpdateServicePublicIP(ctx context.Context, cluster, service string, cfg ecstypes.AwsVpcConfiguration) error
}

// ErrAlreadyInState is returned (wrapped) by a Writer when the account already
// is as asked: the permission exists, or the rule to revoke is gone. Callers
// count it as success, which makes every action idempotent.
var ErrAlreadyInState = errors.New("already in that state")
