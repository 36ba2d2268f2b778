package fix

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/pkg/account"
)

// SnapshotWriter applies changes to an in-memory snapshot, so that a second
// diagnosis of the snapshot shows their effect. It is not safe for concurrent use.
type SnapshotWriter struct {
	Snap *account.Snapshot
}

// NewSnapshotWriter returns a writer that mutates snap.
func NewSnapshotWriter(snap *account.Snapshot) *SnapshotWriter { return &SnapshotWriter{Snap: snap} }

// permissionRuleID names a permission the way AWS names a security group rule.
// It is derived from the rule's content (not its description), so a snapshot
// written to a file and read back still finds the rule by the same ID.
func permissionRuleID(groupID string, egress bool, p ec2types.IpPermission) string {
	parts := []string{groupID, fmt.Sprint(egress), aws.ToString(p.IpProtocol),
		fmt.Sprint(aws.ToInt32(p.FromPort)), fmt.Sprint(aws.ToInt32(p.ToPort))}
	var peers []string
	for _, r := range p.IpRanges {
		peers = append(peers, "cidr:"+aws.ToString(r.CidrIp))
	}
	for _, g := range p.UserIdGroupPairs {
		peers = append(peers, "sg:"+aws.ToString(g.GroupId))
	}
	for _, pl := range p.PrefixListIds {
		peers = append(peers, "pl:"+aws.ToString(pl.PrefixListId))
	}
	slices.Sort(peers)
	sum := sha256.Sum256([]byte(strings.Join(append(parts, peers...), "|")))
	return "sgr-pullmedic-" + hex.EncodeToString(sum[:])[:17]
}

func (w *SnapshotWriter) group(id string) (*ec2types.SecurityGroup, error) {
	for i, g := range w.Snap.EC2.SecurityGroups {
		if aws.ToString(g.GroupId) == id {
			return &w.Snap.EC2.SecurityGroups[i], nil
		}
	}
	return nil, fmt.Errorf("security group %s is not in the snapshot", id)
}

// perms returns the ingress or egress list of a group, for in-place edits.
func perms(g *ec2types.SecurityGroup, egress bool) *[]ec2types.IpPermission {
	if egress {
		return &g.IpPermissionsEgress
	}
	return &g.IpPermissions
}

func (w *SnapshotWriter) authorize(groupID string, egress bool, perm ec2types.IpPermission) ([]string, error) {
	g, err := w.group(groupID)
	if err != nil {
		return nil, err
	}
	id := permissionRuleID(groupID, egress, perm)
	list := perms(g, egress)
	for _, p := range *list {
		if permissionRuleID(groupID, egress, p) == id {
			return []string{id}, fmt.Errorf("%s: %w", id, ErrAlreadyInState)
		}
	}
	*list = append(*list, perm)
	return []string{id}, nil
}

func (w *SnapshotWriter) revoke(groupID string, egress bool, ids []string) error {
	g, err := w.group(groupID)
	if err != nil {
		return err
	}
	list := perms(g, egress)
	kept := (*list)[:0:0]
	for _, p := range *list {
		if !slices.Contains(ids, permissionRuleID(groupID, egress, p)) {
			kept = append(kept, p)
		}
	}
	if len(kept) == len(*list) {
		return fmt.Errorf("rules %v of %s: %w", ids, groupID, ErrAlreadyInState)
	}
	if len(kept) == 0 {
		kept = nil // as the snapshot had it before the first rule was added
	}
	*list = kept
	return nil
}

func (w *SnapshotWriter) AuthorizeIngress(_ context.Context, groupID string, perm ec2types.IpPermission) ([]string, error) {
	return w.authorize(groupID, false, perm)
}

func (w *SnapshotWriter) AuthorizeEgress(_ context.Context, groupID string, perm ec2types.IpPermission) ([]string, error) {
	return w.authorize(groupID, true, perm)
}

func (w *SnapshotWriter) RevokeIngress(_ context.Context, groupID string, ids []string) error {
	return w.revoke(groupID, false, ids)
}

func (w *SnapshotWriter) RevokeEgress(_ context.Context, groupID string, ids []string) error {
	return w.revoke(groupID, true, ids)
}

func (w *SnapshotWriter) SetServicePublicIP(_ context.Context, cluster, service string, assign ecstypes.AssignPublicIp) (before, after *ecstypes.AwsVpcConfiguration, err error) {
	for i, s := range w.Snap.ECS.Services {
		if !sameName(aws.ToString(s.ServiceArn), aws.ToString(s.ServiceName), service) ||
			(cluster != "" && aws.ToString(s.ClusterArn) != "" && !sameName(aws.ToString(s.ClusterArn), "", cluster)) {
			continue
		}
		nc := w.Snap.ECS.Services[i].NetworkConfiguration
		before, after, err = withPublicIP(service, nc, assign)
		if err == nil {
			nc.AwsvpcConfiguration = after
		}
		return before, after, err
	}
	return nil, nil, fmt.Errorf("service %s of cluster %s is not in the snapshot", service, cluster)
}

// sameName reports whether want names the resource, by ARN or by name.
func sameName(arn, name, want string) bool {
	return want != "" && (arn == want || name == want || strings.HasSuffix(arn, "/"+want) || strings.HasSuffix(want, "/"+name) && name != "")
}
