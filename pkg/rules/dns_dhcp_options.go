package rules

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
)

// DNSDHCPOptions: the VPC hands tasks the Amazon resolver.
var DNSDHCPOptions = Rule{
	ID:          "dns.dhcp-options",
	Title:       "DHCP options break name resolution",
	Severity:    Medium,
	Summary:     "The VPC's DHCP options set has domain-name-servers AmazonProvidedDNS (or the VPC has the default set)",
	Remediation: "Use AmazonProvidedDNS, or make the custom resolvers forward AWS names to the VPC resolver.",
	Needs:       []account.Source{account.SrcSubnet, account.SrcVPC, account.SrcDHCPOptions, account.SrcContainerInstance, account.SrcInstance},
	Check:       checkDHCPOptions,
}

// amazonDNSLink is the Amazon resolver's link-local address.
const amazonDNSLink = "169.254.169.253"

func checkDHCPOptions(f *account.Facts) Finding {
	// The resolver that matters is the one of the subnet the pull leaves
	// from: the task's, or on EC2 the instance's.
	o, err := pullOriginOf(f)
	if err != nil {
		return pathError(err)
	}
	vpcID := f.VPCID()
	if vpcID == "" {
		return Finding{Status: Error, Message: fmt.Sprintf("could not be evaluated: subnet %s not found", o.SubnetID)}
	}
	vpc := f.VPC(vpcID)
	if vpc == nil {
		return Finding{Status: Error, Message: fmt.Sprintf("could not be evaluated: VPC %s not found", vpcID)}
	}
	id := aws.ToString(vpc.DhcpOptionsId)
	ev := map[string]any{"vpc": vpcID, "dhcpOptions": id}
	if id == "" || id == "default" {
		return Finding{Status: Pass, Evidence: ev, Message: fmt.Sprintf("VPC %s uses the default DHCP options (AmazonProvidedDNS).", vpcID)}
	}
	set := dhcpOptions(f, id)
	if set == nil {
		return Finding{Status: Error, Evidence: ev, Message: fmt.Sprintf("could not be evaluated: DHCP options set %s not found", id)}
	}
	var servers []string
	for _, c := range set.DhcpConfigurations {
		if aws.ToString(c.Key) == "domain-name-servers" {
			for _, v := range c.Values {
				servers = append(servers, aws.ToString(v.Value))
			}
		}
	}
	ev["domainNameServers"] = servers
	resolvers := vpcResolvers(vpc)
	for _, s := range servers {
		if strings.EqualFold(s, "AmazonProvidedDNS") || Contains(resolvers, s) {
			return Finding{Status: Pass, Evidence: ev, Message: fmt.Sprintf("DHCP options set %s of VPC %s gives tasks the Amazon resolver (%s).", id, vpcID, s)}
		}
	}
	restore := fmt.Sprintf("aws ec2 associate-dhcp-options --dhcp-options-id default --vpc-id %s", vpcID)
	if len(servers) == 0 {
		return Finding{Status: Fail, Evidence: ev, Advice: "Restore the Amazon resolver: " + restore,
			Message: fmt.Sprintf("DHCP options set %s of VPC %s names no domain-name-servers, so tasks get no DNS resolver and cannot look up the registry.", id, vpcID)}
	}
	msg := fmt.Sprintf("DHCP options set %s of VPC %s sends tasks to custom resolvers %s, which must forward AWS names (and the endpoints' private zones) to %s; that cannot be proven from the API.",
		id, vpcID, strings.Join(servers, ", "), resolvers[0])
	if f.Task.Class == event.ClassDNS {
		msg = fmt.Sprintf("DHCP options set %s of VPC %s sends tasks to custom resolvers %s, the likely cause of this name-resolution failure: they must forward AWS names to %s.",
			id, vpcID, strings.Join(servers, ", "), resolvers[0])
	}
	return Finding{Status: Warn, Evidence: ev, Message: msg,
		Advice: fmt.Sprintf("Add conditional forwarding of amazonaws.com to %s on the resolvers, or restore the Amazon resolver: %s", resolvers[0], restore)}
}

// dhcpOptions returns a DHCP options set by ID, or nil.
func dhcpOptions(f *account.Facts, id string) *ec2types.DhcpOptions {
	for i, d := range f.EC2.DhcpOptions {
		if aws.ToString(d.DhcpOptionsId) == id {
			return &f.EC2.DhcpOptions[i]
		}
	}
	return nil
}

// vpcResolvers lists the addresses of the Amazon resolver in the VPC: base of
// each IPv4 CIDR plus two, then the link-local one.
func vpcResolvers(vpc *ec2types.Vpc) []string {
	cidrs := []string{aws.ToString(vpc.CidrBlock)}
	for _, a := range vpc.CidrBlockAssociationSet {
		cidrs = append(cidrs, aws.ToString(a.CidrBlock))
	}
	var out []string
	for _, c := range cidrs {
		if p, err := netip.ParsePrefix(c); err == nil && p.Addr().Is4() {
			if r := p.Masked().Addr().Next().Next().String(); !Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	return append(out, amazonDNSLink)
}
