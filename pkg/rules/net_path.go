package rules

import (
	"cmp"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/pullmedic/pullmedic/pkg/account"
)

// routeKind is what the task subnet's default route makes of the way out.
type routeKind int

const (
	routeNone     routeKind = iota // no default route at all
	routeInternet                  // an attached IGW, or an available public NAT gateway behind one
	routeBroken                    // a default route that cannot carry traffic
	routeUnproven                  // leaves the VPC through a target we cannot see past
)

// netPath is the task's way out of its subnet, shared by the network and dns rules.
type netPath struct {
	Region     string
	VPCID      string
	Subnet     *ec2types.Subnet
	RouteTable *ec2types.RouteTable
	MainRT     bool
	Kind       routeKind
	Target     string // the default route's target, "" without one
	Public     bool   // the default route goes straight to an internet gateway
	Problem    string // why the route is broken or unproven
	Repair     string // the aws CLI command that would restore the route
	Chain      []string
	// ECREndpoints are the VPC's ecr.dkr and ecr.api interface endpoints.
	ECREndpoints []ec2types.VpcEndpoint
	// Origin is where the pull leaves from: the task ENI, or the instance.
	Origin pullOrigin
}

// pullOrigin is the network interface the image pull leaves through. On
// Fargate that is the task's ENI. On a container instance it is the
// instance's own, whatever the task's network mode: the ECS agent and the
// container runtime pull on the host, not inside the task, so a bridge,
// host or awsvpc task alike pulls over the instance's subnet, security
// groups and address (the task ENI of awsvpc carries only the containers'
// own traffic).
type pullOrigin struct {
	// Instance is the container instance's EC2 instance; nil on Fargate.
	Instance *ec2types.Instance
	SubnetID string
	IP       string // private IPv4 address, "" when not known
	Groups   []string
}

// errNoVPCPath: the host is outside any VPC (an ECS Anywhere instance),
// so the network and DNS rules have nothing to judge.
var errNoVPCPath = errors.New("no VPC path")

// pullOriginOf finds where the task's pull leaves from.
func pullOriginOf(f *account.Facts) (pullOrigin, error) {
	if !f.OnInstance() {
		if f.Task.SubnetID == "" {
			return pullOrigin{}, errors.New("the event names no subnet for the task")
		}
		return pullOrigin{SubnetID: f.Task.SubnetID, IP: f.Task.PrivateIP, Groups: f.TaskSecurityGroups()}, nil
	}
	arn := f.Task.ContainerInstanceArn
	if arn == "" {
		return pullOrigin{}, fmt.Errorf("the event names no container instance for the %s task, whose host's network carries the pull", f.Task.LaunchType)
	}
	ci := f.ContainerInstance()
	if ci == nil {
		return pullOrigin{}, fmt.Errorf("container instance %s not found", arn)
	}
	id := aws.ToString(ci.Ec2InstanceId)
	if id == "" {
		return pullOrigin{}, fmt.Errorf("%w: container instance %s is an external host, whose network is not in a VPC", errNoVPCPath, arn)
	}
	in := f.Instance()
	if in == nil {
		return pullOrigin{}, fmt.Errorf("instance %s of container instance %s not found", id, arn)
	}
	o := pullOrigin{Instance: in, SubnetID: aws.ToString(in.SubnetId), IP: aws.ToString(in.PrivateIpAddress), Groups: account.InstanceGroups(in)}
	if o.SubnetID == "" {
		return o, fmt.Errorf("instance %s is in no subnet (state %s)", id, instanceState(in))
	}
	return o, nil
}

// instanceState is the instance's state name, for messages.
func instanceState(in *ec2types.Instance) string {
	if in.State == nil {
		return "unknown"
	}
	return string(in.State.Name)
}

// onHost reports a path that starts at a container instance.
func (o pullOrigin) onHost() bool { return o.Instance != nil }

// who names the origin in a sentence: "the task" or "instance i-…".
func (o pullOrigin) who() string {
	if o.onHost() {
		return "instance " + aws.ToString(o.Instance.InstanceId)
	}
	return "the task"
}

// whoTitle is who at the start of a sentence.
func (o pullOrigin) whoTitle() string {
	w := o.who()
	return strings.ToUpper(w[:1]) + w[1:]
}

// groupsText is "The task's security groups (sg-1)", or the instance's.
func (o pullOrigin) groupsText() string {
	owner := "The task's"
	if o.onHost() {
		owner = "Instance " + aws.ToString(o.Instance.InstanceId) + "'s"
	}
	return fmt.Sprintf("%s security groups (%s)", owner, strings.Join(o.Groups, ", "))
}

// groupsKey is the evidence key of the origin's security groups.
func (o pullOrigin) groupsKey() string {
	if o.onHost() {
		return "instanceSecurityGroups"
	}
	return "taskSecurityGroups"
}

// hop is the first hop of every chain: "task 10.0.1.5 (eni-…)" or "instance i-… 10.0.1.5".
func (o pullOrigin) hop(f *account.Facts) string {
	ip := cmp.Or(o.IP, "(IP unknown)")
	if o.onHost() {
		return fmt.Sprintf("instance %s %s", aws.ToString(o.Instance.InstanceId), ip)
	}
	return fmt.Sprintf("task %s (%s)", ip, cmp.Or(f.Task.ENIID, "ENI unknown"))
}

// hostManualOnly says why a finding on an instance's path carries no
// automatic fix: the instance's security groups, subnet and address carry
// every task on the host and the ECS agent itself.
const hostManualOnly = "pullmedic changes nothing on an EC2 instance's path by itself: its security groups, subnet and address serve every task on the host and the ECS agent, so a person must make this change."

// pathSources are the reads the path analysis cannot do without. The
// container instance and its EC2 instance are read only on that launch type.
var pathSources = []account.Source{
	account.SrcSubnet, account.SrcRouteTables, account.SrcInternetGateways,
	account.SrcNATGateways, account.SrcVPCEndpoints,
	account.SrcContainerInstance, account.SrcInstance,
}

// needs is pathSources plus a rule's own reads, in a fresh slice.
func needs(extra ...account.Source) []account.Source {
	return append(append([]account.Source{}, pathSources...), extra...)
}

// destNeeds is needs for the rules that judge where the pull goes
// (pullDestinations, requiredEndpoints): the task definition decides which
// endpoints (logs, secrets) are on the way, so without it those rules
// cannot tell a pass from a skip.
func destNeeds(extra ...account.Source) []account.Source {
	return needs(append([]account.Source{account.SrcTaskDefinition}, extra...)...)
}

// endpointDesign reports that the VPC is built to pull through ECR interface
// endpoints: there is no internet path, but there are ECR endpoints.
func (p *netPath) endpointDesign() bool {
	return (p.Kind == routeNone || p.Kind == routeBroken) && len(p.ECREndpoints) > 0
}

// routeTableLabel says how the subnet got its route table, for evidence.
func (p *netPath) routeTableLabel() string {
	if p.MainRT {
		return "main"
	}
	return "explicit"
}

// evidence is the part of a finding's evidence every path-based rule shares.
func (p *netPath) evidence() map[string]any {
	return map[string]any{
		"chain":      p.Chain,
		"vpc":        p.VPCID,
		"subnet":     aws.ToString(p.Subnet.SubnetId),
		"routeTable": aws.ToString(p.RouteTable.RouteTableId) + " (" + p.routeTableLabel() + ")",
	}
}

// analyzePath follows the task subnet's default route. It fails only when a
// resource the path names is missing from the facts.
func analyzePath(f *account.Facts) (*netPath, error) {
	o, err := pullOriginOf(f)
	if err != nil {
		return nil, err
	}
	id := o.SubnetID
	p := &netPath{Region: taskRegion(f), Subnet: f.Subnet(id), Origin: o}
	if p.Subnet == nil {
		return nil, fmt.Errorf("subnet %s not found", id)
	}
	p.VPCID = aws.ToString(p.Subnet.VpcId)
	p.RouteTable, p.MainRT = f.RouteTableFor(id)
	if p.RouteTable == nil {
		return nil, fmt.Errorf("route table of subnet %s not found (no explicit association and no main route table in %s)", id, p.VPCID)
	}
	rtID := aws.ToString(p.RouteTable.RouteTableId)
	p.Chain = []string{o.hop(f), "", fmt.Sprintf("route table %s (%s)", rtID, p.routeTableLabel())}
	if aws.ToBool(p.Subnet.Ipv6Native) {
		// An IPv6-only task reaches ECR at its dual-stack endpoints, which
		// PrivateLink does not carry: interface endpoints cannot serve it.
		err = p.followIPv6(f, rtID)
	} else {
		p.ECREndpoints = append(p.endpoints(f, "ecr.dkr", ec2types.VpcEndpointTypeInterface), p.endpoints(f, "ecr.api", ec2types.VpcEndpointTypeInterface)...)
		err = p.followDefault(f, rtID)
	}
	label := "private"
	if p.Public {
		label = "public"
	}
	p.Chain[1] = fmt.Sprintf("subnet %s (%s)", id, label)
	if p.Kind == routeNone && p.endpointDesign() {
		var ids []string
		for _, ep := range p.ECREndpoints {
			ids = append(ids, aws.ToString(ep.VpcEndpointId))
		}
		p.Chain[len(p.Chain)-1] = "no 0.0.0.0/0 route → ECR interface endpoints " + strings.Join(ids, ", ")
	}
	return p, err
}

func (p *netPath) followDefault(f *account.Facts, rtID string) error {
	r := defaultRoute(p.RouteTable)
	if r == nil {
		p.Kind, p.Problem = routeNone, fmt.Sprintf("route table %s has no 0.0.0.0/0 route", rtID)
		p.Repair = natRouteCommand(f, "create-route", rtID, p.VPCID, "")
		p.Chain = append(p.Chain, "0.0.0.0/0 → none")
		return nil
	}
	p.Target = routeTarget(r)
	if r.State == ec2types.RouteStateBlackhole {
		p.Kind, p.Problem = routeBroken, fmt.Sprintf("the 0.0.0.0/0 route of %s to %s is a blackhole (its target is gone)", rtID, p.Target)
		p.Repair = natRouteCommand(f, "replace-route", rtID, p.VPCID, p.Target)
		p.Chain = append(p.Chain, fmt.Sprintf("0.0.0.0/0 → %s (blackhole)", p.Target))
		return nil
	}
	switch {
	case strings.HasPrefix(p.Target, "igw-"):
		p.Public = true
		attached, err := igwAttached(f, p.Target, p.VPCID)
		if err != nil {
			return err
		}
		p.Chain = append(p.Chain, "0.0.0.0/0 → "+p.Target+attachedLabel(attached))
		p.Kind = routeInternet
		if !attached {
			p.Kind, p.Problem = routeBroken, fmt.Sprintf("internet gateway %s is not attached to %s", p.Target, p.VPCID)
			p.Repair = fmt.Sprintf("aws ec2 attach-internet-gateway --internet-gateway-id %s --vpc-id %s", p.Target, p.VPCID)
		}
		return nil
	case strings.HasPrefix(p.Target, "nat-"):
		return p.followNAT(f)
	default:
		p.Kind, p.Problem = routeUnproven, fmt.Sprintf("the 0.0.0.0/0 route of %s leaves the VPC through %s, and the path beyond it cannot be proven", rtID, targetLabel(f, p.Target))
		p.Repair = beyondAdvice(p.Target)
		p.Chain = append(p.Chain, "0.0.0.0/0 → "+targetLabel(f, p.Target))
		return nil
	}
}

// followIPv6 follows an IPv6-only subnet's ::/0 route: it must reach an
// attached internet gateway or an egress-only internet gateway. ECR answers
// IPv6 only at its dual-stack endpoints, and "does not support AWS
// PrivateLink traffic over dual-stack endpoints"
// (https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-requests.html).
func (p *netPath) followIPv6(f *account.Facts, rtID string) error {
	var r *ec2types.Route
	for i, rr := range p.RouteTable.Routes {
		if aws.ToString(rr.DestinationIpv6CidrBlock) == "::/0" {
			r = &p.RouteTable.Routes[i]
		}
	}
	if r == nil || r.State == ec2types.RouteStateBlackhole {
		p.Kind, p.Problem = routeNone, fmt.Sprintf("IPv6-only subnet %s has no working ::/0 route in %s (VPC endpoints cannot carry ECR's dual-stack traffic)", aws.ToString(p.Subnet.SubnetId), rtID)
		p.Repair = fmt.Sprintf("aws ec2 create-egress-only-internet-gateway --vpc-id %s, then aws ec2 create-route --route-table-id %s --destination-ipv6-cidr-block ::/0 --egress-only-internet-gateway-id EIGW_ID", p.VPCID, rtID)
		p.Chain = append(p.Chain, "::/0 → none")
		return nil
	}
	p.Target = routeTarget(r)
	p.Chain = append(p.Chain, "::/0 → "+targetLabel(f, p.Target))
	switch {
	case strings.HasPrefix(p.Target, "eigw-"):
		p.Kind = routeInternet
	case strings.HasPrefix(p.Target, "igw-"):
		attached, err := igwAttached(f, p.Target, p.VPCID)
		if err != nil {
			return err
		}
		// An IPv6 address is globally routable: no public IPv4 is needed,
		// so the path is not "public" for network.public-ip.
		p.Kind = routeInternet
		if !attached {
			p.Kind, p.Problem = routeBroken, fmt.Sprintf("internet gateway %s is not attached to %s", p.Target, p.VPCID)
			p.Repair = fmt.Sprintf("aws ec2 attach-internet-gateway --internet-gateway-id %s --vpc-id %s", p.Target, p.VPCID)
		}
	default:
		p.Kind, p.Problem = routeUnproven, fmt.Sprintf("the ::/0 route of %s leaves the VPC through %s, and the path beyond it cannot be proven", rtID, targetLabel(f, p.Target))
		p.Repair = beyondAdvice(p.Target)
	}
	return nil
}

// targetLabel names what a route target is, for a reader who must look there next.
func targetLabel(f *account.Facts, id string) string {
	switch {
	case strings.HasPrefix(id, "tgw-"):
		return "transit gateway " + id
	case strings.HasPrefix(id, "pcx-"):
		return "VPC peering connection " + id
	case strings.HasPrefix(id, "vpce-"):
		for _, ep := range f.EC2.VpcEndpoints {
			if aws.ToString(ep.VpcEndpointId) == id && ep.VpcEndpointType == ec2types.VpcEndpointTypeGatewayLoadBalancer {
				return "Gateway Load Balancer endpoint " + id + " (a firewall appliance)"
			}
		}
		// AWS Network Firewall's endpoints are not the account's VPC endpoints.
		return "firewall endpoint " + id + " (AWS Network Firewall or a Gateway Load Balancer endpoint)"
	case strings.HasPrefix(id, "eni-"), strings.HasPrefix(id, "i-"):
		return "network appliance " + id + " (a NAT instance or firewall)"
	case strings.HasPrefix(id, "arn:") && strings.Contains(id, ":core-network/"):
		return "Cloud WAN core network " + id
	case strings.HasPrefix(id, "vgw-"):
		return "virtual private gateway " + id + " (to your own network)"
	}
	return id
}

// beyondAdvice says what to check past a target the facts cannot see through.
func beyondAdvice(id string) string {
	switch {
	case strings.HasPrefix(id, "tgw-"):
		return fmt.Sprintf("check that the transit gateway route table of %s's attachment sends 0.0.0.0/0 to an egress VPC with a NAT gateway, and that the route back to this VPC exists (aws ec2 search-transit-gateway-routes)", id)
	case strings.HasPrefix(id, "vpce-"):
		return fmt.Sprintf("check that the firewall behind %s allows TCP 443 to the registry's hosts, and that its subnet routes on to a NAT or internet gateway", id)
	case strings.HasPrefix(id, "pcx-"):
		return fmt.Sprintf("peering connection %s does not carry traffic on to the internet (no transitive routing): use a NAT gateway or VPC endpoints in this VPC", id)
	}
	return fmt.Sprintf("check that %s forwards TCP 443 to the registry and back", id)
}

// followNAT checks the NAT gateway and the route out of its own subnet.
func (p *netPath) followNAT(f *account.Facts) error {
	nat := f.NATGateway(p.Target)
	if nat == nil {
		return fmt.Errorf("NAT gateway %s not found", p.Target)
	}
	state := string(nat.State)
	p.Chain = append(p.Chain, fmt.Sprintf("0.0.0.0/0 → %s (%s)", p.Target, state))
	switch {
	case nat.State != ec2types.NatGatewayStateAvailable:
		p.Kind, p.Problem = routeBroken, fmt.Sprintf("NAT gateway %s is %s", p.Target, state)
	case nat.ConnectivityType == ec2types.ConnectivityTypePrivate:
		p.Kind, p.Problem = routeBroken, fmt.Sprintf("NAT gateway %s is a private NAT gateway, which gives no internet access", p.Target)
	}
	if p.Kind == routeBroken {
		p.Repair = natRouteCommand(f, "replace-route", aws.ToString(p.RouteTable.RouteTableId), p.VPCID, p.Target)
		return nil
	}
	// The NAT's subnet itself is not needed (live collection reads only the
	// task's): its route table is found by association, else the VPC's main one.
	natSubnet := aws.ToString(nat.SubnetId)
	rt, _ := f.RouteTableIn(p.VPCID, natSubnet)
	if rt == nil {
		return fmt.Errorf("route table of subnet %s (NAT gateway %s) not found", natSubnet, p.Target)
	}
	rtID := aws.ToString(rt.RouteTableId)
	hop := fmt.Sprintf("nat subnet %s → %s → ", natSubnet, rtID)
	r := defaultRoute(rt)
	if r == nil || r.State == ec2types.RouteStateBlackhole {
		p.Chain = append(p.Chain, hop+"none")
		p.Kind, p.Problem = routeBroken, fmt.Sprintf("route table %s of NAT gateway %s's subnet %s has no working 0.0.0.0/0 route", rtID, p.Target, natSubnet)
		verb := "create-route"
		if r != nil {
			verb = "replace-route"
		}
		p.Repair = fmt.Sprintf("aws ec2 %s --route-table-id %s --destination-cidr-block 0.0.0.0/0 --gateway-id %s", verb, rtID, attachedIGW(f, p.VPCID))
		return nil
	}
	target := routeTarget(r)
	if !strings.HasPrefix(target, "igw-") {
		p.Chain = append(p.Chain, hop+target)
		p.Kind, p.Problem = routeUnproven, fmt.Sprintf("NAT gateway %s sends traffic on through %s, and the path beyond it cannot be proven", p.Target, targetLabel(f, target))
		p.Repair = beyondAdvice(target)
		return nil
	}
	attached, err := igwAttached(f, target, p.VPCID)
	if err != nil {
		return err
	}
	p.Chain = append(p.Chain, hop+target+attachedLabel(attached))
	p.Kind = routeInternet
	if !attached {
		p.Kind, p.Problem = routeBroken, fmt.Sprintf("internet gateway %s behind NAT gateway %s is not attached to %s", target, p.Target, p.VPCID)
		p.Repair = fmt.Sprintf("aws ec2 attach-internet-gateway --internet-gateway-id %s --vpc-id %s", target, p.VPCID)
	}
	return nil
}

// natRouteCommand is the aws CLI line that points a default route at a working
// NAT gateway of the VPC (other than the broken one), or at a placeholder.
func natRouteCommand(f *account.Facts, verb, rtID, vpcID, broken string) string {
	nat := "NAT_GATEWAY_ID"
	for _, n := range f.EC2.NatGateways {
		id := aws.ToString(n.NatGatewayId)
		if aws.ToString(n.VpcId) == vpcID && id != broken && n.State == ec2types.NatGatewayStateAvailable && n.ConnectivityType != ec2types.ConnectivityTypePrivate {
			nat = id
			break
		}
	}
	return fmt.Sprintf("aws ec2 %s --route-table-id %s --destination-cidr-block 0.0.0.0/0 --nat-gateway-id %s", verb, rtID, nat)
}

// attachedIGW names an internet gateway attached to the VPC, or a placeholder.
func attachedIGW(f *account.Facts, vpcID string) string {
	for _, g := range f.EC2.InternetGateways {
		id := aws.ToString(g.InternetGatewayId)
		if ok, _ := igwAttached(f, id, vpcID); ok {
			return id
		}
	}
	return "INTERNET_GATEWAY_ID"
}

func attachedLabel(attached bool) string {
	if attached {
		return ""
	}
	return " (not attached)"
}

// defaultRoute returns the table's IPv4 default route, or nil.
func defaultRoute(rt *ec2types.RouteTable) *ec2types.Route {
	for i, r := range rt.Routes {
		if aws.ToString(r.DestinationCidrBlock) == "0.0.0.0/0" {
			return &rt.Routes[i]
		}
	}
	return nil
}

// routeTarget returns the ID of whatever the route sends traffic to.
func routeTarget(r *ec2types.Route) string {
	for _, t := range []*string{
		r.NatGatewayId, r.GatewayId, r.TransitGatewayId, r.VpcPeeringConnectionId,
		r.NetworkInterfaceId, r.InstanceId, r.LocalGatewayId, r.CarrierGatewayId,
		r.EgressOnlyInternetGatewayId, r.CoreNetworkArn,
	} {
		if s := aws.ToString(t); s != "" {
			return s
		}
	}
	return "an unnamed target"
}

// igwAttached reports whether the internet gateway is attached to the VPC.
func igwAttached(f *account.Facts, id, vpcID string) (bool, error) {
	g := f.InternetGateway(id)
	if g == nil {
		return false, fmt.Errorf("internet gateway %s not found", id)
	}
	for _, a := range g.Attachments {
		// DescribeInternetGateways reports an attached gateway as "available".
		st := strings.ToLower(string(a.State))
		if aws.ToString(a.VpcId) == vpcID && (st == "available" || st == string(ec2types.AttachmentStatusAttached)) {
			return true, nil
		}
	}
	return false, nil
}

// pathError turns a failed path analysis into the finding of a rule; a
// host outside any VPC is nothing to judge.
func pathError(err error) Finding {
	if errors.Is(err, errNoVPCPath) {
		return Finding{Status: Skip, Message: strings.TrimPrefix(err.Error(), errNoVPCPath.Error()+": ") + "; the network rules judge VPC paths only."}
	}
	return Finding{Status: Error, Message: "could not be evaluated: " + err.Error()}
}
