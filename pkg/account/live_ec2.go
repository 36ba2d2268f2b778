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

// subnetsAPI is the read a subnet is kept under in the VPCCache, by its ID,
// whether it is the pull's or an endpoint's.
const subnetsAPI = "ec2:DescribeSubnets"

// subnetReads read the task's subnet, which gates every VPC-wide read; when
// the cache holds it, those reads start in the first round instead.
func (c *collector) subnetReads() []read {
	var s ec2types.Subnet
	if fromCache(c, c.t.SubnetID, subnetsAPI, &s) {
		c.f.EC2.Subnets = []ec2types.Subnet{s}
		return c.vpcReads(aws.ToString(s.VpcId))
	}
	return []read{gate(c.describeSubnet)}
}

func (c *collector) describeSubnet(ctx context.Context) []read {
	id := c.t.SubnetID
	subnets, err := allPages(ctx, ec2.NewDescribeSubnetsPaginator(c.ec2, &ec2.DescribeSubnetsInput{SubnetIds: []string{id}}),
		func(o *ec2.DescribeSubnetsOutput) []ec2types.Subnet { return o.Subnets })
	if err == nil && len(subnets) == 0 {
		err = notFound("subnet " + id)
	}
	if err != nil {
		msg := c.fail(SrcSubnet, subnetsAPI, err)
		c.skip(fmt.Sprintf("subnet %s could not be read: %s", id, msg), vpcSources...)
		return nil
	}
	c.f.EC2.Subnets = slices.Clip(subnets)
	c.keep(id, subnetsAPI, subnets[0])
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
func (c *collector) describeDHCPOptions() []read {
	return keptListing(c, "", SrcDHCPOptions, "ec2:DescribeDhcpOptions",
		ec2.NewDescribeDhcpOptionsPaginator(c.ec2, &ec2.DescribeDhcpOptionsInput{MaxResults: c.l.maxResults()}),
		func(o *ec2.DescribeDhcpOptionsOutput) []ec2types.DhcpOptions { return o.DhcpOptions }, &c.dhcp)
}

// describeS3PrefixList reads the S3 prefix list of the region, whose CIDRs
// the ACL and security group rules need to judge the path to S3.
func (c *collector) describeS3PrefixList() []read {
	name := []ec2types.Filter{{Name: aws.String("prefix-list-name"), Values: []string{"com.amazonaws." + c.region + ".s3"}}}
	return keptListing(c, "", SrcPrefixLists, "ec2:DescribePrefixLists",
		ec2.NewDescribePrefixListsPaginator(c.ec2, &ec2.DescribePrefixListsInput{Filters: name, MaxResults: c.l.maxResults()}),
		func(o *ec2.DescribePrefixListsOutput) []ec2types.PrefixList { return o.PrefixLists }, &c.f.EC2.PrefixLists)
}

// vpcReads read the task's VPC: one call per kind, filtered by VPC, each
// kept in the VPCCache but the security groups. The security groups of the
// task, its endpoints and their references are all in it.
func (c *collector) vpcReads(vpcID string) []read {
	e, f, page := c.ec2, &c.f.EC2, c.l.maxResults()
	byVPC := func(name string) []ec2types.Filter {
		return []ec2types.Filter{{Name: aws.String(name), Values: []string{vpcID}}}
	}
	return slices.Concat(
		keptListing(c, vpcID, SrcVPC, "ec2:DescribeVpcs", ec2.NewDescribeVpcsPaginator(e, &ec2.DescribeVpcsInput{VpcIds: []string{vpcID}}),
			func(o *ec2.DescribeVpcsOutput) []ec2types.Vpc { return o.Vpcs }, &f.Vpcs),
		c.vpcAttributeReads(vpcID, ec2types.VpcAttributeNameEnableDnsSupport),
		c.vpcAttributeReads(vpcID, ec2types.VpcAttributeNameEnableDnsHostnames),
		keptListing(c, vpcID, SrcRouteTables, "ec2:DescribeRouteTables", ec2.NewDescribeRouteTablesPaginator(e, &ec2.DescribeRouteTablesInput{Filters: byVPC("vpc-id"), MaxResults: page}),
			func(o *ec2.DescribeRouteTablesOutput) []ec2types.RouteTable { return o.RouteTables }, &f.RouteTables),
		keptListing(c, vpcID, SrcNATGateways, "ec2:DescribeNatGateways", ec2.NewDescribeNatGatewaysPaginator(e, &ec2.DescribeNatGatewaysInput{Filter: byVPC("vpc-id"), MaxResults: page}),
			func(o *ec2.DescribeNatGatewaysOutput) []ec2types.NatGateway { return o.NatGateways }, &f.NatGateways),
		keptListing(c, vpcID, SrcInternetGateways, "ec2:DescribeInternetGateways", ec2.NewDescribeInternetGatewaysPaginator(e, &ec2.DescribeInternetGatewaysInput{Filters: byVPC("attachment.vpc-id"), MaxResults: page}),
			func(o *ec2.DescribeInternetGatewaysOutput) []ec2types.InternetGateway { return o.InternetGateways }, &f.InternetGateways),
		c.vpcEndpointReads(vpcID, ec2.NewDescribeVpcEndpointsPaginator(e, &ec2.DescribeVpcEndpointsInput{Filters: byVPC("vpc-id"), MaxResults: page})),
		[]read{listing(c, SrcSecurityGroups, "ec2:DescribeSecurityGroups", ec2.NewDescribeSecurityGroupsPaginator(e, &ec2.DescribeSecurityGroupsInput{Filters: byVPC("vpc-id"), MaxResults: page}),
			func(o *ec2.DescribeSecurityGroupsOutput) []ec2types.SecurityGroup { return o.SecurityGroups }, &f.SecurityGroups)},
		keptListing(c, vpcID, SrcNetworkACLs, "ec2:DescribeNetworkAcls", ec2.NewDescribeNetworkAclsPaginator(e, &ec2.DescribeNetworkAclsInput{Filters: byVPC("vpc-id"), MaxResults: page}),
			func(o *ec2.DescribeNetworkAclsOutput) []ec2types.NetworkAcl { return o.NetworkAcls }, &f.NetworkAcls),
	)
}

// vpcAttributeReads read one attribute; DescribeVpcAttribute answers one per call.
func (c *collector) vpcAttributeReads(vpcID string, name ec2types.VpcAttributeName) []read {
	api := "ec2:DescribeVpcAttribute " + string(name)
	var value *bool
	if fromCache(c, vpcID, api, &value) {
		c.setVPCAttribute(vpcID, name, value)
		return nil
	}
	return []read{leaf(func(ctx context.Context) {
		out, err := c.ec2.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: aws.String(vpcID), Attribute: name})
		if !c.check(SrcVPCAttributes, api, err) {
			return
		}
		var v *ec2types.AttributeBooleanValue
		switch name {
		case ec2types.VpcAttributeNameEnableDnsSupport:
			v = out.EnableDnsSupport
		case ec2types.VpcAttributeNameEnableDnsHostnames:
			v = out.EnableDnsHostnames
		}
		if v != nil {
			value = v.Value
		}
		c.setVPCAttribute(vpcID, name, value)
		c.keep(vpcID, api, value)
	})}
}

func (c *collector) setVPCAttribute(vpcID string, name ec2types.VpcAttributeName, value *bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f.EC2.VpcAttributes == nil {
		c.f.EC2.VpcAttributes = map[string]VPCAttributes{}
	}
	a := c.f.EC2.VpcAttributes[vpcID]
	switch name {
	case ec2types.VpcAttributeNameEnableDnsSupport:
		a.EnableDnsSupport = value
	case ec2types.VpcAttributeNameEnableDnsHostnames:
		a.EnableDnsHostnames = value
	}
	c.f.EC2.VpcAttributes[vpcID] = a
}

// vpcEndpointReads read the VPC's endpoints, then the subnets they sit in
// besides the pull's: the pull crosses those subnets' ACLs, and security group
// rules may name their CIDRs.
func (c *collector) vpcEndpointReads(vpcID string, p *ec2.DescribeVpcEndpointsPaginator) []read {
	const api = "ec2:DescribeVpcEndpoints"
	if fromCache(c, vpcID, api, &c.f.EC2.VpcEndpoints) {
		return c.endpointSubnetReads()
	}
	return []read{gate(func(ctx context.Context) []read {
		if !readListing(ctx, c, SrcVPCEndpoints, api, p, func(o *ec2.DescribeVpcEndpointsOutput) []ec2types.VpcEndpoint { return o.VpcEndpoints }, &c.f.EC2.VpcEndpoints) {
			return nil
		}
		c.keep(vpcID, api, c.f.EC2.VpcEndpoints)
		return c.endpointSubnetReads()
	})}
}

func (c *collector) endpointSubnetReads() []read {
	var ids []string
	for _, ep := range c.f.EC2.VpcEndpoints {
		for _, id := range ep.SubnetIds {
			if id != c.subnet && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	return c.readSubnets(SrcEndpointSubnets, "ec2:DescribeSubnets (endpoint subnets)", ids)
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
		next = append(next, c.readSubnets(SrcSubnet, subnetsAPI, []string{subnet})...)
		next = append(next, c.vpcReads(vpc)...)
	}
	if c.instanceRole {
		next = append(next, c.instanceRoleReads(in)...)
	}
	return next
}

// readSubnets adds subnets to the facts: those the VPCCache holds now, the
// others in one read beside which other subnet reads may run.
func (c *collector) readSubnets(src Source, api string, ids []string) []read {
	var missing []string
	for _, id := range ids {
		var s ec2types.Subnet
		if fromCache(c, id, subnetsAPI, &s) {
			c.addSubnets(s)
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return []read{leaf(func(ctx context.Context) {
		subnets, err := allPages(ctx, ec2.NewDescribeSubnetsPaginator(c.ec2, &ec2.DescribeSubnetsInput{SubnetIds: missing}),
			func(o *ec2.DescribeSubnetsOutput) []ec2types.Subnet { return o.Subnets })
		if err == nil && len(subnets) == 0 {
			err = notFound("subnet " + strings.Join(missing, ", "))
		}
		if !c.check(src, api, err) {
			return
		}
		for _, s := range subnets {
			c.keep(aws.ToString(s.SubnetId), subnetsAPI, s)
		}
		c.addSubnets(subnets...)
	})}
}

func (c *collector) addSubnets(subnets ...ec2types.Subnet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.f.EC2.Subnets = append(c.f.EC2.Subnets, subnets...)
}
