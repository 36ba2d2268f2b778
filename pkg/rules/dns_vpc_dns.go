package rules

import (
	"fmt"

	"github.com/pullmedic/pullmedic/pkg/account"
)

// DNSVPCDNS: the VPC resolves names, and resolves the endpoints' private names when relied on.
var DNSVPCDNS = Rule{
	ID:          "dns.vpc-dns",
	Title:       "VPC DNS turned off",
	Severity:    High,
	Summary:     "VPC enableDnsSupport is true, and enableDnsHostnames too when the pull relies on interface endpoints with private DNS",
	Remediation: "Turn the VPC's DNS attributes on with aws ec2 modify-vpc-attribute.",
	Needs:       needs(account.SrcVPC, account.SrcVPCAttributes),
	Check:       checkVPCDNS,
}

func checkVPCDNS(f *account.Facts) Finding {
	p, err := analyzePath(f)
	if err != nil {
		return pathError(err)
	}
	support, hostnames := f.DNSSupport(p.VPCID), f.DNSHostnames(p.VPCID)
	ev := p.evidence()
	ev["enableDnsSupport"], ev["enableDnsHostnames"] = support, hostnames
	_, recorded := f.EC2.VpcAttributes[p.VPCID]
	ev["attributesRecorded"] = recorded
	modify := "aws ec2 modify-vpc-attribute --vpc-id " + p.VPCID
	switch {
	case !support:
		return Finding{Status: Fail, Evidence: ev,
			Message: fmt.Sprintf("VPC %s has enableDnsSupport off, so the task cannot resolve the registry's name.", p.VPCID),
			Advice:  "Turn DNS resolution on: " + modify + ` --enable-dns-support '{"Value":true}'`}
	case !hostnames && p.endpointDesign():
		return Finding{Status: Fail, Evidence: ev,
			Message: fmt.Sprintf("VPC %s has enableDnsHostnames off, so the ECR endpoints' private DNS names do not resolve and the pull, which has no internet path, cannot find them.", p.VPCID),
			Advice:  "Turn DNS hostnames on: " + modify + ` --enable-dns-hostnames '{"Value":true}'`}
	case p.endpointDesign():
		return Finding{Status: Pass, Evidence: ev, Message: fmt.Sprintf("VPC %s resolves names and the endpoints' private DNS names.", p.VPCID)}
	}
	return Finding{Status: Pass, Evidence: ev, Message: fmt.Sprintf("VPC %s resolves names (DNS support on; the pull relies on no endpoint private DNS).", p.VPCID)}
}
