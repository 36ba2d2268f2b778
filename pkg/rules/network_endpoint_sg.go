package rules

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/pullmedic/pullmedic/pkg/account"
)

// NetworkEndpointSG: the interface endpoints the task uses accept TCP 443 from it.
var NetworkEndpointSG = Rule{
	ID:          "network.endpoint-sg",
	Title:       "endpoint security group blocks HTTPS from the task",
	Severity:    High,
	Summary:     "The security groups of the interface endpoints the task uses allow inbound TCP 443 from the task",
	Remediation: "Allow inbound TCP 443 from the task's security group on the endpoints' security groups.",
	Needs:       destNeeds(account.SrcSecurityGroups, account.SrcService),
	Action:      ActionAllowFromTask,
	Check:       checkEndpointSG,
}

// interfaceDests are the destinations that are interface endpoints.
func interfaceDests(f *account.Facts, p *netPath) []pullDest {
	var out []pullDest
	for _, d := range pullDestinations(f, p) {
		if d.Endpoint != nil && d.Service != "s3" {
			out = append(out, d)
		}
	}
	return out
}

func checkEndpointSG(f *account.Facts) Finding {
	p, err := analyzePath(f)
	if err != nil {
		return pathError(err)
	}
	dests := interfaceDests(f, p)
	if len(dests) == 0 {
		return Finding{Status: Skip, Message: fmt.Sprintf("No interface endpoint of %s carries %s's pull (none in use, or no private DNS on an internet path).", p.VPCID, p.Origin.who())}
	}
	o := p.Origin
	taskSGs := o.Groups
	peer := sgPeer{Groups: taskSGs}
	if tp, ok := taskPrefix(p); ok {
		peer.CIDRs = []netip.Prefix{tp}
	}
	ev := p.evidence()
	ev[o.groupsKey()] = taskSGs
	addrKey := "taskAddress"
	if o.onHost() {
		addrKey = "instanceAddress"
	}
	ev[addrKey] = prefixStrings(peer.CIDRs)
	if len(taskSGs) == 0 && len(peer.CIDRs) == 0 {
		return Finding{Status: Error, Evidence: ev, Message: fmt.Sprintf("could not be evaluated: %s's security groups and address are unknown", o.who())}
	}
	var allowed, blocked, groupIDs, endpoints, uncollected []string
	unknownPeer := false // a blocked group admits some group the task may carry
	for _, d := range dests {
		groups, err := securityGroups(f, d.Peer.Groups)
		if err == nil && len(groups) == 0 {
			err = fmt.Errorf("%s lists no security groups", d.Name)
		}
		if err != nil {
			return Finding{Status: Error, Evidence: ev, Message: "could not be evaluated: " + err.Error()}
		}
		if how, ok := sgAllows(f, groups, false, peer); ok {
			allowed = append(allowed, d.Name+": "+how)
			continue
		}
		blocked = append(blocked, d.Name)
		unknownPeer = unknownPeer || (len(taskSGs) == 0 && admitsSomeGroup(groups))
		for _, id := range uncollectedPrefixLists(f, groups, false) {
			if !Contains(uncollected, id) {
				uncollected = append(uncollected, id)
			}
		}
		endpoints = append(endpoints, aws.ToString(d.Endpoint.VpcEndpointId))
		if !Contains(groupIDs, d.Peer.Groups[0]) {
			groupIDs = append(groupIDs, d.Peer.Groups[0])
		}
	}
	if len(allowed) > 0 {
		ev["allowed"] = allowed
	}
	if len(blocked) == 0 {
		return Finding{Status: Pass, Evidence: ev, Message: fmt.Sprintf("The security groups of the endpoints %s uses allow TCP 443 from it (%d endpoints).", o.who(), len(dests))}
	}
	ev["blocked"] = blocked
	if unknownPeer {
		return Finding{Status: Error, Evidence: ev, Message: fmt.Sprintf(
			"could not be evaluated: %s admit TCP 443 from security groups only, and the task's are unknown (%s)", strings.Join(blocked, ", "), taskSGsUnknown(f))}
	}
	if len(uncollected) > 0 {
		return uncollectedWarning(ev, uncollected, fmt.Sprintf("The security groups of %s admit TCP 443 from the task", strings.Join(blocked, ", ")))
	}
	who := strings.Join(append(append([]string{}, taskSGs...), prefixStrings(peer.CIDRs)...), ", ")
	msg := fmt.Sprintf("The security groups (%s) of %s allow no inbound TCP 443 from %s (%s).", strings.Join(groupIDs, ", "), strings.Join(blocked, ", "), o.who(), who)
	if p.Kind == routeInternet {
		msg = strings.TrimSuffix(msg, ".") + fmt.Sprintf(", and private DNS sends %s's ECR traffic there despite its internet route.", o.who())
	}
	source := "TASK_SECURITY_GROUP"
	fix := &Fix{Action: ActionAllowFromTask, Target: groupIDs[0], Params: &Params{GroupIDs: groupIDs, Endpoints: endpoints}}
	if len(taskSGs) > 0 {
		source = taskSGs[0]
		fix.AutoFixable = true
		fix.Params.SourceGroupID = source
	}
	var advice []string
	for _, g := range groupIDs {
		advice = append(advice, authorizeCommand("ingress", g, fmt.Sprintf(`UserIdGroupPairs=[{GroupId=%s,Description="ECS tasks pull through this endpoint"}]`, source)))
	}
	if o.onHost() {
		// Opening the endpoints to the instance's group is safe in itself, but
		// that group is the whole host's: a person decides (hostManualOnly).
		return Finding{Status: Fail, Evidence: ev, Message: msg,
			Advice: fmt.Sprintf("Allow TCP 443 from %s's security group: %s. %s", o.who(), strings.Join(advice, "; "), hostManualOnly)}
	}
	return Finding{Status: Fail, Evidence: ev, Message: msg, Fix: fix,
		Advice: "Allow TCP 443 from the task's security group: " + strings.Join(advice, "; ")}
}

// admitsSomeGroup reports whether a group lets TCP 443 in from any security group.
func admitsSomeGroup(groups []*ec2types.SecurityGroup) bool {
	for _, g := range groups {
		for _, perm := range g.IpPermissions {
			if permAllowsHTTPS(perm) && len(perm.UserIdGroupPairs) > 0 {
				return true
			}
		}
	}
	return false
}
