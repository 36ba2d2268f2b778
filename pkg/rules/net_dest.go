package rules

import (
	"net/netip"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/pullmedic/pullmedic/pkg/account"
)

// pullDest is one place the task's pull traffic goes, as SG and ACL rules see it.
type pullDest struct {
	Name     string
	Service  string                // "ecr.dkr", "s3", ... ; "" for the internet
	Endpoint *ec2types.VpcEndpoint // the interface or gateway endpoint, if any
	Peer     sgPeer
}

// internet reports whether the destination is the open internet.
func (d pullDest) internet() bool { return d.Service == "" }

// pullDestinations lists where the task's pull goes: each interface endpoint
// its traffic resolves to, the S3 gateway endpoint (by prefix list), and the
// internet for whatever goes neither way. On the endpoint design a missing
// endpoint is left out: network.vpc-endpoints reports it, and asking for
// internet access there would be wrong advice.
func pullDestinations(f *account.Facts, p *netPath) []pullDest {
	var out []pullDest
	n := requiredEndpoints(f)
	design := p.endpointDesign()
	internet := len(n.NonECR) > 0 && !design
	for _, need := range n.Endpoints {
		if need.Type == ec2types.VpcEndpointTypeGateway {
			gw, associated := p.s3Gateway(f)
			switch {
			case associated:
				out = append(out, p.s3Dest(f, gw))
			case design:
				out = append(out, p.s3Dest(f, nil))
			default:
				internet = true
			}
			continue
		}
		ep := p.bestEndpoint(f, need.Service, need.Type)
		switch {
		case ep != nil && (design || aws.ToBool(ep.PrivateDnsEnabled)):
			out = append(out, p.endpointDest(f, need.Service, ep))
		case !design:
			internet = true
		}
	}
	if internet {
		out = append(out, pullDest{Name: "the internet (0.0.0.0/0)", Peer: sgPeer{CIDRs: []netip.Prefix{anyIPv4}}})
	}
	return out
}

// endpointDest stands for an interface endpoint: its security groups, and the
// CIDRs of its subnets (else of the VPC), since its ENI addresses are not collected.
func (p *netPath) endpointDest(f *account.Facts, svc string, ep *ec2types.VpcEndpoint) pullDest {
	d := pullDest{Name: svc + " endpoint " + aws.ToString(ep.VpcEndpointId), Service: svc, Endpoint: ep}
	for _, g := range ep.Groups {
		d.Peer.Groups = append(d.Peer.Groups, aws.ToString(g.GroupId))
	}
	for _, id := range ep.SubnetIds {
		if s := f.Subnet(id); s != nil {
			if c, ok := parsePrefix(aws.ToString(s.CidrBlock)); ok {
				d.Peer.CIDRs = append(d.Peer.CIDRs, c)
			}
		}
	}
	if len(d.Peer.CIDRs) == 0 {
		if v := f.VPC(p.VPCID); v != nil {
			if c, ok := parsePrefix(aws.ToString(v.CidrBlock)); ok {
				d.Peer.CIDRs = append(d.Peer.CIDRs, c)
			}
		}
	}
	return d
}

// s3Dest stands for S3 behind the gateway endpoint: its prefix list, and the
// list's CIDRs when collected. S3 addresses are public, so without those
// CIDRs only a rule covering 0.0.0.0/0 is known to reach it.
func (p *netPath) s3Dest(f *account.Facts, gw *ec2types.VpcEndpoint) pullDest {
	pl := p.s3PrefixList(f, gw)
	d := pullDest{Name: "S3 gateway endpoint", Service: "s3", Endpoint: gw, Peer: sgPeer{PrefixList: pl}}
	if gw != nil {
		d.Name += " " + aws.ToString(gw.VpcEndpointId)
	}
	if pl != "" {
		d.Name += " (" + pl + ")"
	}
	if list := prefixList(f, pl); list != nil {
		for _, c := range list.Cidrs {
			if p, ok := parsePrefix(c); ok {
				d.Peer.CIDRs = append(d.Peer.CIDRs, p)
			}
		}
	}
	if len(d.Peer.CIDRs) == 0 {
		d.Peer.CIDRs = []netip.Prefix{anyIPv4}
	}
	return d
}

// taskPrefix is the pull's source address (the task's, or the instance's)
// as a host prefix, else its subnet's CIDR (a rule covering the whole
// subnet covers the task wherever it landed).
func taskPrefix(p *netPath) (netip.Prefix, bool) {
	if ip, ok := parsePrefix(p.Origin.IP); ok {
		return ip, true
	}
	return parsePrefix(aws.ToString(p.Subnet.CidrBlock))
}
