package account

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// vpcSources are the reads that need the VPC ID from the task's subnet.
var vpcSources = []Source{SrcVPC, SrcVPCAttributes, SrcRouteTables, SrcInternetGateways,
	SrcNATGateways, SrcVPCEndpoints, SrcSecurityGroups, SrcNetworkACLs}

// describeSubnet gates every VPC-wide read.
func (c *collector) describeSubnet(ctx context.Context) []read {
	id := c.t.SubnetID
	subnets, err := allPages(ctx, ec2.NewDescribeSubnetsPaginator(c.ec2, &ec2.DescribeSubnetsInput{SubnetIds: []string{id}}),
		func(o *ec2.DescribeSubnetsOutput) []ec2types.Subnet { return o.Subnets })
	if err == nil && len(subnets) == 0 {
		err = notFound("subnet " + id)
	}
	if err != nil {
		msg := c.fail(SrcSubnet, "ec2:DescribeSubnets", err)
		c.skip(fmt.Sprintf("subnet %s could not be read: %s", id, msg), vpcSources...)
		return nil
	}
	c.f.EC2.Subnets = subnets
	return c.vpcReads(aws.ToString(subnets[0].VpcId))
}

func (c *collector) describeENI(ctx context.Context) {
	enis, err := allPages(ctx, ec2.NewDescribeNetworkInterfacesPaginator(c.ec2, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{c.t.ENIID}}),
		func(o *ec2.DescribeNetworkInterfacesOutput) []ec2types.NetworkInterface { return o.NetworkInterfaces })
	// Fargate deletes a stopped task's ENI: its absence is normal.
	if c.check(SrcNetworkInterfaces, "ec2:DescribeNetworkInterfaces", err, "InvalidNetworkInterfaceID.NotFound") {
		c.f.EC2.NetworkInterfaces = enis
	}
}

// describeDHCPOptions reads every set now, so the VPC is not waited for; finish keeps the VPC's.
func (c *collector) describeDHCPOptions() read {
	return listing(c, SrcDHCPOptions, "ec2:DescribeDhcpOptions",
		ec2.NewDescribeDhcpOptionsPaginator(c.ec2, &ec2.DescribeDhcpOptionsInput{MaxResults: c.l.maxResults()}),
		func(o *ec2.DescribeDhcpOptionsOutput) []ec2types.DhcpOptions { return o.DhcpOptions }, &c.dhcp)
}

// describeS3PrefixList reads the S3 prefix list of the region, whose CIDRs
// the ACL and security group rules need to judge the path to S3.
func (c *collector) describeS3PrefixList() read {
	name := []ec2types.Filter{{Name: aws.String("prefix-list-name"), Values: []string{"com.amazonaws." + c.region + ".s3"}}}
	return listing(c, SrcPrefixLists, "ec2:DescribePrefixLists",
		ec2.NewDescribePrefixListsPaginator(c.ec2, &ec2.DescribePrefixListsInput{Filters: name, MaxResults: c.l.maxResults()}),
		func(o *ec2.DescribePrefixListsOutput) []ec2types.PrefixList { return o.PrefixLists }, &c.f.EC2.PrefixLists)
}

// vpcReads read the task's VPC: one call per kind, filtered by VPC. The
// security groups of the task, its endpoints and their references are all in it.
func (c *collector) vpcReads(vpcID string) []read {
	e, f, page := c.ec2, &c.f.EC2, c.l.maxResults()
	byVPC := func(name string) []ec2types.Filter {
		return []ec2types.Filter{{Name: aws.String(name), Values: []string{vpcID}}}
	}
	return []read{
		listing(c, SrcVPC, "ec2:DescribeVpcs", ec2.NewDescribeVpcsPaginator(e, &ec2.DescribeVpcsInput{VpcIds: []string{vpcID}}),
			func(o *ec2.DescribeVpcsOutput) []ec2types.Vpc { return o.Vpcs }, &f.Vpcs),
		leaf(func(ctx context.Context) { c.vpcAttribute(ctx, vpcID, ec2types.VpcAttributeNameEnableDnsSupport) }),
		leaf(func(ctx context.Context) { c.vpcAttribute(ctx, vpcID, ec2types.VpcAttributeNameEnableDnsHostnames) }),
		listing(c, SrcRouteTables, "ec2:DescribeRouteTables", ec2.NewDescribeRouteTablesPaginator(e, &ec2.DescribeRouteTablesInput{Filters: byVPC("vpc-id"), MaxResults: page}),
			func(o *ec2.DescribeRouteTablesOutput) []ec2types.RouteTable { return o.RouteTables }, &f.RouteTables),
		listing(c, SrcNATGateways, "ec2:DescribeNatGateways", ec2.NewDescribeNatGatewaysPaginator(e, &ec2.DescribeNatGatewaysInput{Filter: byVPC("vpc-id"), MaxResults: page}),
			func(o *ec2.DescribeNatGatewaysOutput) []ec2types.NatGateway { return o.NatGateways }, &f.NatGateways),
		listing(c, SrcInternetGateways, "ec2:DescribeInternetGateways", ec2.NewDescribeInternetGatewaysPaginator(e, &ec2.DescribeInternetGatewaysInput{Filters: byVPC("attachment.vpc-id"), MaxResults: page}),
			func(o *ec2.DescribeInternetGatewaysOutput) []ec2types.InternetGateway { return o.InternetGateways }, &f.InternetGateways),
		gate(func(ctx context.Context) []read {
			return c.describeVPCEndpoints(ctx, ec2.NewDescribeVpcEndpointsPaginator(e, &ec2.DescribeVpcEndpointsInput{Filters: byVPC("vpc-id"), MaxResults: page}))
		}),
		listing(c, SrcSecurityGroups, "ec2:DescribeSecurityGroups", ec2.NewDescribeSecurityGroupsPaginator(e, &ec2.DescribeSecurityGroupsInput{Filters: byVPC("vpc-id"), MaxResults: page}),
			func(o *ec2.DescribeSecurityGroupsOutput) []ec2types.SecurityGroup { return o.SecurityGroups }, &f.SecurityGroups),
		listing(c, SrcNetworkACLs, "ec2:DescribeNetworkAcls", ec2.NewDescribeNetworkAclsPaginator(e, &ec2.DescribeNetworkAclsInput{Filters: byVPC("vpc-id"), MaxResults: page}),
			func(o *ec2.DescribeNetworkAclsOutput) []ec2types.NetworkAcl { return o.NetworkAcls }, &f.NetworkAcls),
	}
}

// vpcAttribute reads one attribute; DescribeVpcAttribute answers one per call.
func (c *collector) vpcAttribute(ctx context.Context, vpcID string, name ec2types.VpcAttributeName) {
	out, err := c.ec2.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: aws.String(vpcID), Attribute: name})
	if !c.check(SrcVPCAttributes, "ec2:DescribeVpcAttribute "+string(name), err) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f.EC2.VpcAttributes == nil {
		c.f.EC2.VpcAttributes = map[string]VPCAttributes{}
	}
	a := c.f.EC2.VpcAttributes[vpcID]
	if out.EnableDnsSupport != nil {
		a.EnableDnsSupport = out.EnableDnsSupport.Value
	}
	if out.EnableDnsHostnames != nil {
		a.EnableDnsHostnames = out.EnableDnsHostnames.Value
	}
	c.f.EC2.VpcAttributes[vpcID] = a
}

// describeVPCEndpoints reads the VPC's endpoints, then the subnets they sit in
// besides the pull's: the pull crosses those subnets' ACLs, and security group
// rules may name their CIDRs.
func (c *collector) describeVPCEndpoints(ctx context.Context, p *ec2.DescribeVpcEndpointsPaginator) []read {
	eps, err := allPages(ctx, p, func(o *ec2.DescribeVpcEndpointsOutput) []ec2types.VpcEndpoint { return o.VpcEndpoints })
	if !c.check(SrcVPCEndpoints, "ec2:DescribeVpcEndpoints", err) {
		return nil
	}
	c.f.EC2.VpcEndpoints = eps
	var ids []string
	for _, ep := range eps {
		for _, id := range ep.SubnetIds {
			if id != c.subnet && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return []read{leaf(func(ctx context.Context) {
		c.readSubnets(ctx, SrcEndpointSubnets, "ec2:DescribeSubnets (endpoint subnets)", ids)
	})}
}

// describeInstance reads the container instance's EC2 instance: its subnet and
// VPC gate the network reads (the agent pulls over the instance's network,
// whatever the task's network mode), and its instance profile names the role
// that pulls when the task definition has no execution role.
func (c *collector) describeInstance(ctx context.Context, id string) []read {
	reservations, err := allPages(ctx, ec2.NewDescribeInstancesPaginator(c.ec2, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}),
		func(o *ec2.DescribeInstancesOutput) []ec2types.Reservation { return o.Reservations })
	var instances []ec2types.Instance
	for _, r := range reservations {
		instances = append(instances, r.Instances...)
	}
	if err == nil && len(instances) == 0 {
		err = notFound("instance " + id)
	}
	if err != nil {
		msg := c.fail(SrcInstance, "ec2:DescribeInstances", err)
		reason := fmt.Sprintf("instance %s could not be read: %s", id, msg)
		c.skip(reason, append([]Source{SrcSubnet}, vpcSources...)...)
		if c.instanceRole {
			c.skip(reason, SrcRole, SrcRolePolicies)
		}
		return nil
	}
	c.f.EC2.Instances = instances
	in := instances[0]
	var next []read
	if subnet, vpc := aws.ToString(in.SubnetId), aws.ToString(in.VpcId); subnet != "" && vpc != "" {
		// The VPC is known from the instance, so the subnet is read beside
		// the VPC-wide reads instead of before them.
		c.subnet = subnet
		next = append(next, leaf(func(ctx context.Context) { c.readSubnets(ctx, SrcSubnet, "ec2:DescribeSubnets", []string{subnet}) }))
		next = append(next, c.vpcReads(vpc)...)
	}
	if c.instanceRole {
		next = append(next, c.instanceRoleReads(in)...)
	}
	return next
}

// readSubnets adds subnets to the facts; other subnet reads may run beside it.
func (c *collector) readSubnets(ctx context.Context, src Source, api string, ids []string) {
	subnets, err := allPages(ctx, ec2.NewDescribeSubnetsPaginator(c.ec2, &ec2.DescribeSubnetsInput{SubnetIds: ids}),
		func(o *ec2.DescribeSubnetsOutput) []ec2types.Subnet { return o.Subnets })
	if err == nil && len(subnets) == 0 {
		err = notFound("subnet " + strings.Join(ids, ", "))
	}
	if !c.check(src, api, err) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.f.EC2.Subnets = append(c.f.EC2.Subnets, subnets...)
}
