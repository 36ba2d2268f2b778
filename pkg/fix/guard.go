package fix

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

// The guard rails. They turn one step of a fresh plan into concrete writes,
// reading only the fresh facts, and refuse anything outside the fix vocabulary
// of docs/rules.md. They hold however the plan was made: a step can never
// widen a rule beyond TCP 443 from or to what the facts prove.

// op is one write a step resolved to.
type op struct {
	action string
	rule   string // the rule the step fixes
	target string // the security group, or the service ARN
	// security group actions
	egress bool
	perm   ec2types.IpPermission
	// enable-public-ip: the writer keeps all but assignPublicIp
	cluster string
}

// peer names the other side of a security group rule; "" for a service.
func (o op) peer() string {
	p := o.perm
	switch {
	case len(p.UserIdGroupPairs) > 0:
		return aws.ToString(p.UserIdGroupPairs[0].GroupId)
	case len(p.PrefixListIds) > 0:
		return aws.ToString(p.PrefixListIds[0].PrefixListId)
	case len(p.IpRanges) > 0:
		return aws.ToString(p.IpRanges[0].CidrIp)
	}
	return ""
}

// resolve turns a step into writes, or says why the guard rails refuse it.
func resolve(f *account.Facts, s rules.Step, rule string, now time.Time) ([]op, error) {
	if err := refuseHost(f); err != nil {
		return nil, err
	}
	switch s.Action {
	case rules.ActionAllowFromTask:
		return allowFromTask(f, s, rule, now)
	case rules.ActionAllowEgress:
		return allowEgress(f, s, rule, now)
	case rules.ActionPublicIP:
		return enablePublicIP(f, s, rule)
	}
	return nil, fmt.Errorf("%q is not a fix action", s.Action)
}

// refuseHost is the second line behind the rules, which attach no
// automatic fix on an EC2 path: a task on a container instance pulls over
// the instance's network, and every fix action would change what the whole
// host (its other tasks, the ECS agent) depends on, or a task ENI the pull
// does not even use. A person decides there.
func refuseHost(f *account.Facts) error {
	if !f.OnInstance() {
		return nil
	}
	host := "its container instance"
	if in := f.Instance(); in != nil {
		host = "instance " + aws.ToString(in.InstanceId)
	}
	return fmt.Errorf("task %s runs on the %s launch type: its image is pulled over %s's network, shared by every task on the host, so no fix is applied automatically",
		f.Task.TaskID(), f.Task.LaunchType, host)
}

// endpointGroups are the security groups of the interface endpoints in the task's VPC.
func endpointGroups(f *account.Facts) []string {
	var out []string
	for _, ep := range f.EC2.VpcEndpoints {
		if ep.VpcEndpointType != ec2types.VpcEndpointTypeInterface || aws.ToString(ep.VpcId) != f.VPCID() {
			continue
		}
		for _, g := range ep.Groups {
			if id := aws.ToString(g.GroupId); !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	slices.Sort(out)
	return out
}

// https443 is a TCP 443 permission; callers add the one peer it is for.
func https443() ec2types.IpPermission {
	return ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443)}
}

// taskGroup is the task security group the step names (sourceGroupId or
// groupId), else the task's first. It must be one of the groups of the
// service's current network configuration: never one the event's ENI names.
func taskGroup(f *account.Facts, named string) (string, error) {
	cfg := serviceNetwork(f.Service())
	if cfg == nil || len(cfg.SecurityGroups) == 0 {
		return "", fmt.Errorf("the service's security groups are unknown")
	}
	sgs := cfg.SecurityGroups
	g := cmp.Or(named, sgs[0])
	if !slices.Contains(sgs, g) {
		return "", fmt.Errorf("%s is not a security group of service %s", g, aws.ToString(f.Service().ServiceName))
	}
	return g, nil
}

// allowFromTask opens TCP 443 on endpoint security groups (the step's target
// and groupIds, else all of the VPC's) to the task's group, by group
// reference only. Every target must be an interface endpoint's group.
func allowFromTask(f *account.Facts, s rules.Step, rule string, now time.Time) ([]op, error) {
	src, err := taskGroup(f, s.Params.SourceGroupID)
	if err != nil {
		return nil, err
	}
	targets := slices.Clone(s.Params.GroupIDs)
	if s.Target != "" && !slices.Contains(targets, s.Target) {
		targets = append([]string{s.Target}, targets...)
	}
	eps := endpointGroups(f)
	if len(targets) == 0 {
		targets = eps
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("%s has no interface endpoints", f.VPCID())
	}
	ops := make([]op, len(targets))
	for i, g := range targets {
		if !slices.Contains(eps, g) {
			return nil, fmt.Errorf("%s is not a security group of an interface endpoint in %s", g, f.VPCID())
		}
		p := https443()
		p.UserIdGroupPairs = []ec2types.UserIdGroupPair{{GroupId: aws.String(src), Description: aws.String(describe(f, rule, now))}}
		ops[i] = op{action: s.Action, rule: rule, target: g, perm: p}
	}
	return ops, nil
}

// allowEgress opens TCP 443 out of a task security group to the step's
// destinations (else those the facts call for): interface endpoints' groups,
// the S3 gateway endpoint's prefix list, or 0.0.0.0/0 only when the subnet's
// way out is an internet route.
func allowEgress(f *account.Facts, s rules.Step, rule string, now time.Time) ([]op, error) {
	target, err := taskGroup(f, s.Params.GroupID)
	if err != nil {
		return nil, err
	}
	if s.Target != "" && s.Target != target {
		return nil, fmt.Errorf("%s is not the security group of the task the step names", s.Target)
	}
	dests := s.Params.Destinations
	if len(dests) == 0 {
		dests = neededEgress(f)
	}
	if len(dests) == 0 {
		return nil, fmt.Errorf("the task's subnet has neither an internet route nor VPC endpoints to allow egress to")
	}
	desc := aws.String(describe(f, rule, now))
	eps, s3 := endpointGroups(f), s3PrefixList(f)
	ops := make([]op, len(dests))
	for i, d := range dests {
		p := https443()
		switch {
		case d.GroupID != "" && d.PrefixListID == "" && d.CIDR == "" && slices.Contains(eps, d.GroupID):
			p.UserIdGroupPairs = []ec2types.UserIdGroupPair{{GroupId: aws.String(d.GroupID), Description: desc}}
		case d.PrefixListID != "" && d.GroupID == "" && d.CIDR == "" && d.PrefixListID == s3:
			p.PrefixListIds = []ec2types.PrefixListId{{PrefixListId: aws.String(d.PrefixListID), Description: desc}}
		case d.CIDR == "0.0.0.0/0" && d.GroupID == "" && d.PrefixListID == "" && internetPath(f):
			p.IpRanges = []ec2types.IpRange{{CidrIp: aws.String(d.CIDR), Description: desc}}
		default:
			return nil, fmt.Errorf("egress to %+v is not allowed: only to an interface endpoint's group, the S3 gateway endpoint's prefix list, or 0.0.0.0/0 on an internet route", d)
		}
		ops[i] = op{action: s.Action, rule: rule, target: target, egress: true, perm: p}
	}
	return ops, nil
}

// neededEgress is where the task's pull goes when the step does not say: the
// internet on an internet route, else the endpoints.
func neededEgress(f *account.Facts) []rules.Destination {
	if internetPath(f) {
		return []rules.Destination{{CIDR: "0.0.0.0/0"}}
	}
	var out []rules.Destination
	for _, g := range endpointGroups(f) {
		out = append(out, rules.Destination{GroupID: g})
	}
	if pl := s3PrefixList(f); pl != "" {
		out = append(out, rules.Destination{PrefixListID: pl})
	}
	return out
}

// enablePublicIP sets assignPublicIp on the task's service (the writer keeps
// its subnets and security groups). Only for a service in a public subnet.
func enablePublicIP(f *account.Facts, s rules.Step, rule string) ([]op, error) {
	svc := f.Service()
	if svc == nil {
		return nil, fmt.Errorf("only a service can be given public IPs, and the task's service is unknown (a standalone task?)")
	}
	arn := aws.ToString(svc.ServiceArn)
	if s.Target != "" && !sameName(arn, aws.ToString(svc.ServiceName), s.Target) {
		return nil, fmt.Errorf("%s is not the task's service %s", s.Target, arn)
	}
	cfg := serviceNetwork(svc)
	if cfg == nil || len(cfg.Subnets) == 0 {
		return nil, fmt.Errorf("service %s has no awsvpc network configuration", arn)
	}
	// Every subnet the service may place a task in must be public: a task in
	// a private one would get a public IP it cannot use.
	for _, subnet := range cfg.Subnets {
		if igw := defaultTarget(f, f.VPCID(), subnet); !strings.HasPrefix(igw, "igw-") {
			return nil, fmt.Errorf("service subnet %s is private (its default route goes to %q, not an internet gateway): a public IP would not help", subnet, igw)
		}
	}
	cluster := aws.ToString(svc.ClusterArn)
	if cluster == "" {
		cluster = f.Task.ClusterArn
	}
	return []op{{action: s.Action, rule: rule, target: arn, cluster: cluster}}, nil
}

// defaultTarget is where the working 0.0.0.0/0 route of a subnet of the
// VPC goes: an igw-, nat- or other ID, or "" without one.
func defaultTarget(f *account.Facts, vpcID, subnetID string) string {
	rt, _ := f.RouteTableIn(vpcID, subnetID)
	if rt == nil {
		return ""
	}
	for _, r := range rt.Routes {
		if aws.ToString(r.DestinationCidrBlock) != "0.0.0.0/0" || r.State == ec2types.RouteStateBlackhole {
			continue
		}
		if id := aws.ToString(r.NatGatewayId); id != "" {
			return id
		}
		return aws.ToString(r.GatewayId)
	}
	return ""
}

// internetPath reports whether the subnet reaches the internet: a default
// route to an internet gateway, or to a public NAT gateway that is available.
func internetPath(f *account.Facts) bool {
	t := defaultTarget(f, f.VPCID(), f.Task.SubnetID)
	if strings.HasPrefix(t, "igw-") {
		return true
	}
	nat := f.NATGateway(t)
	return nat != nil && nat.State == ec2types.NatGatewayStateAvailable && nat.ConnectivityType != ec2types.ConnectivityTypePrivate
}

// s3PrefixList is the prefix list the task's route table sends to an S3
// gateway endpoint, or "".
func s3PrefixList(f *account.Facts) string {
	rt, _ := f.RouteTableFor(f.Task.SubnetID)
	if rt == nil {
		return ""
	}
	for _, r := range rt.Routes {
		pl, gw := aws.ToString(r.DestinationPrefixListId), aws.ToString(r.GatewayId)
		for _, ep := range f.EC2.VpcEndpoints {
			if pl != "" && aws.ToString(ep.VpcEndpointId) == gw && ep.VpcEndpointType == ec2types.VpcEndpointTypeGateway &&
				strings.HasSuffix(aws.ToString(ep.ServiceName), ".s3") {
				return pl
			}
		}
	}
	return ""
}

// notAllowed is every character a security group rule description may not hold.
var notAllowed = regexp.MustCompile(`[^a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]`)

// describe is the description of a rule pullmedic adds: who, for which task
// and rule, and when; within EC2's 255 characters and character set.
func describe(f *account.Facts, rule string, now time.Time) string {
	d := fmt.Sprintf("pullmedic: allow 443 from task %s for %s at %s", f.Task.TaskID(), rule, now.UTC().Format(time.RFC3339))
	d = notAllowed.ReplaceAllString(d, "_")
	if len(d) > 255 {
		d = d[:255]
	}
	return d
}
