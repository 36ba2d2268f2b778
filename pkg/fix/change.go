package fix

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/pkg/rules"
)

// Change is the audit record of one applied write: enough to explain it and
// to undo it. It is stored in the state table under change#<changeId> and
// carried in the result.
type Change struct {
	ChangeID string `json:"changeId"`
	Action   string `json:"action"`
	// Target is the security group (SG actions) or the service ARN.
	Target string `json:"target"`
	// Cluster is the service's cluster (enable-public-ip).
	Cluster string `json:"cluster,omitempty"`
	Before  State  `json:"before"`
	After   State  `json:"after"`
	// Who made it: the function ARN, or "cli:<user>".
	Who  string    `json:"who"`
	Why  Why       `json:"why"`
	When time.Time `json:"when"`
	// SecurityGroupRuleIDs are the rules the change added: undo revokes exactly these.
	SecurityGroupRuleIDs []string `json:"securityGroupRuleIds,omitempty"`
}

// Why a change was made. ApprovedBy is the person who approved it in Slack
// ("slack:<user id>") on a cluster tagged "approve"; empty for a fix the
// cluster's tag allowed unattended.
type Why struct {
	Rule       string `json:"rule"`
	Task       string `json:"task"`
	ApprovedBy string `json:"approvedBy,omitempty"`
}

// State is the changed resource's relevant state. A security group rule's
// before is empty (it did not exist); its after is the permission added.
type State struct {
	Permission          *ec2types.IpPermission        `json:"permission,omitempty"`
	AwsvpcConfiguration *ecstypes.AwsVpcConfiguration `json:"awsvpcConfiguration,omitempty"`
}

// changeID is derived from the request and what the write is, so that every
// try of a request gives a write the same ID: a retry finds the intent and
// the record of the try before.
func changeID(request string, o op) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{request, o.action, o.target, o.peer()}, "|")))
	return "chg-" + hex.EncodeToString(sum[:])[:16]
}

// Undo reverts a change: it revokes exactly the security group rules the
// change added, or puts back the service's previous assignPublicIp (its
// subnets and security groups stay as they are now). Reverting what is
// already reverted succeeds.
func Undo(ctx context.Context, w Undoer, c Change) error {
	var err error
	switch c.Action {
	case rules.ActionAllowFromTask, rules.ActionAllowEgress:
		if len(c.SecurityGroupRuleIDs) == 0 {
			return fmt.Errorf("change %s records no security group rule IDs to revoke", c.ChangeID)
		}
		if c.Action == rules.ActionAllowEgress {
			err = w.RevokeEgress(ctx, c.Target, c.SecurityGroupRuleIDs)
		} else {
			err = w.RevokeIngress(ctx, c.Target, c.SecurityGroupRuleIDs)
		}
	case rules.ActionPublicIP:
		if c.Before.AwsvpcConfiguration == nil {
			return fmt.Errorf("change %s records no previous network configuration", c.ChangeID)
		}
		_, _, err = w.SetServicePublicIP(ctx, c.Cluster, c.Target, c.Before.AwsvpcConfiguration.AssignPublicIp)
	default:
		return fmt.Errorf("change %s: cannot undo action %q", c.ChangeID, c.Action)
	}
	if errors.Is(err, ErrAlreadyInState) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("undo %s: %w", c.ChangeID, err)
	}
	return nil
}
