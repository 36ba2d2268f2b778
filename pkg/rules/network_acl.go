package rules

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/pullmedic/pullmedic/pkg/account"
)

// NetworkNACL: the network ACLs on the way let HTTPS out and its replies back in.
// Destinations are address ranges: 0.0.0.0/0 for the internet, the S3 prefix
// list's CIDRs (0.0.0.0/0 when not collected, since S3 addresses are public),
// and the endpoint subnets' CIDRs. Traffic inside one subnet meets no ACL.
var NetworkNACL = Rule{
	ID:          "network.nacl",
	Title:       "network ACL blocks HTTPS",
	Severity:    High,
	Summary:     "The network ACLs of the task subnet (and of the endpoint subnets) allow TCP 443 out and the replies on ports 1024-65535 back in",
	Remediation: "Add network ACL entries allowing TCP 443 outbound and TCP 1024-65535 inbound, numbered below any deny that matches first.",
	Needs:       destNeeds(account.SrcNetworkACLs, account.SrcEndpointSubnets),
	Check:       checkNACL,
}

// Port ranges an HTTPS connection uses: 443 one way, the client's ephemeral ports back.
var (
	portsHTTPS     = [2]int32{443, 443}
	portsEphemeral = [2]int32{1024, 65535}
)

// aclCheck is one direction of one flow through one ACL.
type aclCheck struct {
	acl    *ec2types.NetworkAcl
	label  string // "acl-1 (default) of subnet-app"
	egress bool
	ports  [2]int32
	peer   netip.Prefix
}

func (c aclCheck) String() string {
	dir, arrow := "ingress", "←"
	if c.egress {
		dir, arrow = "egress", "→"
	}
	return fmt.Sprintf("%s %s tcp %s %s %s", c.label, dir, c.portText(), arrow, c.peer)
}

func (c aclCheck) portText() string {
	if c.ports[0] == c.ports[1] {
		return fmt.Sprint(c.ports[0])
	}
	return fmt.Sprintf("%d-%d", c.ports[0], c.ports[1])
}

// aclVerdict is how an ACL treats a flow.
type aclVerdict int

const (
	aclAllow   aclVerdict = iota
	aclDeny               // some entry denies the whole address range, or part of the ports
	aclPartial            // allowed, but an earlier deny takes part of the address range
)

// decide walks the entries in rule-number order, the first match winning. An
// allow that covers only part of the flow lets the rest fall through; a deny
// that covers only part of the address range makes the flow partly blocked.
func (c aclCheck) decide() (v aclVerdict, rule, partialRule int32) {
	var entries []ec2types.NetworkAclEntry
	for _, e := range c.acl.Entries {
		if aws.ToBool(e.Egress) == c.egress && aws.ToString(e.CidrBlock) != "" {
			entries = append(entries, e)
		}
	}
	sort.SliceStable(entries, func(i, j int) bool { return aws.ToInt32(entries[i].RuleNumber) < aws.ToInt32(entries[j].RuleNumber) })
	for _, e := range entries {
		from, to, ok := entryPorts(e)
		cidr, okCIDR := parsePrefix(aws.ToString(e.CidrBlock))
		if !ok || !okCIDR || to < c.ports[0] || from > c.ports[1] || !cidr.Overlaps(c.peer) {
			continue
		}
		n := aws.ToInt32(e.RuleNumber)
		allPorts, allAddrs := from <= c.ports[0] && to >= c.ports[1], covers(cidr, c.peer)
		switch {
		case e.RuleAction == ec2types.RuleActionDeny && allAddrs:
			return aclDeny, n, partialRule
		case e.RuleAction == ec2types.RuleActionDeny:
			if partialRule == 0 {
				partialRule = n
			}
		case allPorts && allAddrs && partialRule != 0:
			return aclPartial, n, partialRule
		case allPorts && allAddrs:
			return aclAllow, n, 0
		}
	}
	return aclDeny, 32767, partialRule
}

// entryPorts is the port range an entry matches; ok is false for protocols other than TCP.
func entryPorts(e ec2types.NetworkAclEntry) (from, to int32, ok bool) {
	switch strings.ToLower(aws.ToString(e.Protocol)) {
	case "-1", "all":
		return 0, 65535, true
	case "6", "tcp":
		if e.PortRange == nil {
			return 0, 65535, true
		}
		return aws.ToInt32(e.PortRange.From), aws.ToInt32(e.PortRange.To), true
	}
	return 0, 0, false
}

// aclOf resolves the ACL of a subnet of the VPC and labels it for evidence.
func aclOf(f *account.Facts, vpcID, subnet string) (*ec2types.NetworkAcl, string, error) {
	acl, isDefault := f.NetworkACLIn(vpcID, subnet)
	if acl == nil {
		return nil, "", fmt.Errorf("network ACL of subnet %s not found", subnet)
	}
	label := aws.ToString(acl.NetworkAclId)
	if isDefault {
		label += " (default)"
	}
	return acl, label + " of " + subnet, nil
}

// naclChecks lists every ACL direction the pull crosses, each once.
func naclChecks(f *account.Facts, p *netPath) ([]aclCheck, error) {
	taskSubnet := aws.ToString(p.Subnet.SubnetId)
	taskACL, taskLabel, err := aclOf(f, p.VPCID, taskSubnet)
	if err != nil {
		return nil, err
	}
	task, taskKnown := taskPrefix(p)
	var out []aclCheck
	seen := map[string]bool{}
	// flow adds a request through one ACL and its reply: from the client's
	// side (out to 443, back in on ephemeral ports) or from the server's.
	flow := func(acl *ec2types.NetworkAcl, label string, peer netip.Prefix, client bool) {
		for _, c := range []aclCheck{{acl, label, client, portsHTTPS, peer}, {acl, label, !client, portsEphemeral, peer}} {
			if !seen[c.String()] {
				seen[c.String()] = true
				out = append(out, c)
			}
		}
	}
	for _, d := range pullDestinations(f, p) {
		if d.Endpoint == nil || d.Service == "s3" {
			for _, c := range d.Peer.CIDRs {
				flow(taskACL, taskLabel, c, true)
			}
			continue
		}
		for _, sid := range d.Endpoint.SubnetIds {
			if sid == taskSubnet {
				continue // traffic inside a subnet meets no ACL
			}
			peers := d.Peer.CIDRs
			if s := f.Subnet(sid); s != nil {
				if c, ok := parsePrefix(aws.ToString(s.CidrBlock)); ok {
					peers = []netip.Prefix{c}
				}
			}
			for _, c := range peers {
				flow(taskACL, taskLabel, c, true)
			}
			epACL, epLabel, err := aclOf(f, p.VPCID, sid)
			if err != nil {
				return nil, err
			}
			if taskKnown {
				flow(epACL, epLabel, task, false)
			}
		}
	}
	return out, nil
}

func checkNACL(f *account.Facts) Finding {
	p, err := analyzePath(f)
	if err != nil {
		return pathError(err)
	}
	checks, err := naclChecks(f, p)
	if err != nil {
		return pathError(err)
	}
	ev := p.evidence()
	if len(checks) == 0 {
		return Finding{Status: Skip, Evidence: ev, Message: "The pull crosses no network ACL that could be judged (nothing to reach, or only inside the task's subnet)."}
	}
	var lines []string
	var denied, partial *aclCheck
	var deniedRule, partialRule int32
	for i, c := range checks {
		v, rule, part := c.decide()
		verb := "allows"
		if v == aclDeny {
			verb = "denies"
		}
		line := fmt.Sprintf("%s: rule %d %s", c, rule, verb)
		if rule == 32767 {
			line = c.String() + ": no entry allows it (implicit deny *)"
		}
		if part != 0 {
			line += fmt.Sprintf(" (rule %d denies part of the range first)", part)
		}
		lines = append(lines, line)
		switch {
		case v == aclDeny && denied == nil:
			denied, deniedRule = &checks[i], rule
		case part != 0 && partial == nil:
			partial, partialRule = &checks[i], part
		}
	}
	ev["entries"] = lines
	switch {
	case denied != nil:
		return Finding{Status: Fail, Evidence: ev,
			Message: fmt.Sprintf("Network ACL %s blocks %s (%s).", denied.label, denied.flowText(), ruleText(deniedRule)),
			Advice:  "Allow it with an entry numbered before the deny: " + denied.allowCommand(deniedRule)}
	case partial != nil:
		return Finding{Status: Warn, Evidence: ev,
			Message: fmt.Sprintf("Network ACL %s denies part of %s (rule %d); the pull fails if the registry's addresses fall there.", partial.label, partial.flowText(), partialRule)}
	}
	return Finding{Status: Pass, Evidence: ev, Message: fmt.Sprintf("The network ACLs on the pull's path allow HTTPS and its replies (%d directions checked).", len(checks))}
}

func ruleText(n int32) string {
	if n == 32767 {
		return "no entry allows it, so the implicit deny * applies"
	}
	return fmt.Sprintf("rule %d denies it", n)
}

// flowText describes the flow in words, e.g. "egress TCP 443 to 0.0.0.0/0".
func (c aclCheck) flowText() string {
	dir, prep := "ingress", "from"
	if c.egress {
		dir, prep = "egress", "to"
	}
	return fmt.Sprintf("%s TCP %s %s %s", dir, c.portText(), prep, c.peer)
}

// allowCommand is the aws CLI line adding an allow entry below the denying rule.
func (c aclCheck) allowCommand(deny int32) string {
	used := map[int32]bool{}
	for _, e := range c.acl.Entries {
		if aws.ToBool(e.Egress) == c.egress {
			used[aws.ToInt32(e.RuleNumber)] = true
		}
	}
	num := "FREE_RULE_NUMBER"
	for n := deny - 1; n >= 1; n-- {
		if !used[n] {
			num = fmt.Sprint(n)
			break
		}
	}
	dir := "--ingress"
	if c.egress {
		dir = "--egress"
	}
	return fmt.Sprintf("aws ec2 create-network-acl-entry --network-acl-id %s %s --rule-number %s --protocol tcp --port-range From=%d,To=%d --cidr-block %s --rule-action allow",
		aws.ToString(c.acl.NetworkAclId), dir, num, c.ports[0], c.ports[1], c.peer)
}
