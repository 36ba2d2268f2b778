package rules

import (
	"fmt"
	"iter"
	"net/netip"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/pullmedic/pullmedic/pkg/account"
)

// httpsPort is where every registry, endpoint and S3 call of a pull goes.
const httpsPort = 443

// sgPeer is the far end of a connection as security group rules see it.
type sgPeer struct {
	Groups     []string       // security groups the peer carries
	CIDRs      []netip.Prefix // addresses the peer may have; each must be covered
	PrefixList string         // a prefix list that stands for the peer
}

// securityGroups resolves group IDs; a group missing from the facts is an error.
func securityGroups(f *account.Facts, ids []string) ([]*ec2types.SecurityGroup, error) {
	out := make([]*ec2types.SecurityGroup, 0, len(ids))
	for _, id := range ids {
		g := f.SecurityGroup(id)
		if g == nil {
			return nil, fmt.Errorf("security group %s not found", id)
		}
		out = append(out, g)
	}
	return out, nil
}

// sgAllows reports whether the union of the groups lets TCP 443 out to (egress)
// or in from the peer, and names the rules that do. Security groups are
// stateful, so the reply direction needs no rule.
func sgAllows(f *account.Facts, groups []*ec2types.SecurityGroup, egress bool, peer sgPeer) (string, bool) {
	dir := "from"
	if egress {
		dir = "to"
	}
	uncovered := append([]netip.Prefix{}, peer.CIDRs...)
	var via []string
	// cover drops the peer ranges a rule's CIDR covers and says whether it covered any.
	cover := func(cidr string) bool {
		rest := uncovered[:0]
		for _, p := range uncovered {
			if !coversString(cidr, p) {
				rest = append(rest, p)
			}
		}
		hit := len(rest) < len(uncovered)
		uncovered = rest
		return hit
	}
	for gid, perm := range httpsPermissions(groups, egress) {
		for _, pair := range perm.UserIdGroupPairs {
			if Contains(peer.Groups, aws.ToString(pair.GroupId)) {
				return fmt.Sprintf("%s allows tcp 443 %s %s", gid, dir, aws.ToString(pair.GroupId)), true
			}
		}
		for _, pl := range perm.PrefixListIds {
			id := aws.ToString(pl.PrefixListId)
			if id != "" && id == peer.PrefixList {
				return fmt.Sprintf("%s allows tcp 443 %s %s", gid, dir, id), true
			}
			if list := prefixList(f, id); list != nil {
				for _, c := range list.Cidrs {
					if cover(c) {
						via = append(via, fmt.Sprintf("%s allows tcp 443 %s %s (%s)", gid, dir, id, c))
					}
				}
			}
		}
		for _, r := range perm.IpRanges {
			if cover(aws.ToString(r.CidrIp)) {
				via = append(via, fmt.Sprintf("%s allows tcp 443 %s %s", gid, dir, aws.ToString(r.CidrIp)))
			}
		}
	}
	if len(peer.CIDRs) > 0 && len(uncovered) == 0 {
		return strings.Join(via, "; "), true
	}
	return "", false
}

// uncollectedPrefixLists lists the prefix lists that the groups' TCP 443 rules
// (egress or ingress) name but the facts hold no entries for, such as
// customer-managed lists: they may cover the peer, which cannot be judged.
func uncollectedPrefixLists(f *account.Facts, groups []*ec2types.SecurityGroup, egress bool) []string {
	var ids []string
	for _, perm := range httpsPermissions(groups, egress) {
		for _, pl := range perm.PrefixListIds {
			if id := aws.ToString(pl.PrefixListId); id != "" && prefixList(f, id) == nil && !Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// uncollectedWarning is the finding when a blocked flow may yet be allowed by prefix lists whose entries are unknown.
func uncollectedWarning(ev map[string]any, lists []string, flow string) Finding {
	ev["uncollectedPrefixLists"] = lists
	var cmds []string
	for _, id := range lists {
		cmds = append(cmds, "aws ec2 get-managed-prefix-list-entries --prefix-list-id "+id)
	}
	return Finding{Status: Warn, Evidence: ev,
		Message: fmt.Sprintf("%s only if prefix list %s, whose entries were not collected, covers it.", flow, strings.Join(lists, ", ")),
		Advice:  "Check the entries: " + strings.Join(cmds, "; ")}
}

// httpsPermissions yields, with their group ID, the groups' egress (or
// ingress) permissions that take TCP 443.
func httpsPermissions(groups []*ec2types.SecurityGroup, egress bool) iter.Seq2[string, ec2types.IpPermission] {
	return func(yield func(string, ec2types.IpPermission) bool) {
		for _, g := range groups {
			perms := g.IpPermissions
			if egress {
				perms = g.IpPermissionsEgress
			}
			for _, perm := range perms {
				if permAllowsHTTPS(perm) && !yield(aws.ToString(g.GroupId), perm) {
					return
				}
			}
		}
	}
}

// permAllowsHTTPS reports whether a permission's protocol and ports take TCP 443.
func permAllowsHTTPS(p ec2types.IpPermission) bool {
	switch strings.ToLower(aws.ToString(p.IpProtocol)) {
	case "-1", "all":
		return true
	case "tcp", "6":
		from, to := aws.ToInt32(p.FromPort), aws.ToInt32(p.ToPort)
		return (p.FromPort == nil && p.ToPort == nil) || (from <= httpsPort && httpsPort <= to)
	}
	return false
}

// authorizeCommand is the aws CLI line that opens TCP 443 on a group;
// peer is the shorthand peer, e.g. "UserIdGroupPairs=[{GroupId=sg-1}]".
func authorizeCommand(direction, groupID, peer string) string {
	return fmt.Sprintf("aws ec2 authorize-security-group-%s --group-id %s --ip-permissions 'IpProtocol=tcp,FromPort=443,ToPort=443,%s'", direction, groupID, peer)
}
