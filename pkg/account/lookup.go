package account

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// Lookups resolve the task's resources inside the collected Facts. Each returns
// nil when the resource is not there (deleted, not collected, or not in the snapshot).

// Cluster returns the task's cluster.
func (f *Facts) Cluster() *ecstypes.Cluster {
	for i, c := range f.ECS.Clusters {
		if eqARNOrName(aws.ToString(c.ClusterArn), aws.ToString(c.ClusterName), f.Task.ClusterArn) {
			return &f.ECS.Clusters[i]
		}
	}
	return nil
}

// Service returns the task's service, or nil for a standalone task.
func (f *Facts) Service() *ecstypes.Service {
	if f.Task.Service == "" {
		return nil
	}
	for i, s := range f.ECS.Services {
		if aws.ToString(s.ServiceName) == f.Task.Service || strings.HasSuffix(aws.ToString(s.ServiceArn), "/"+f.Task.Service) {
			return &f.ECS.Services[i]
		}
	}
	return nil
}

// TaskDescription returns DescribeTasks' view of the task (absent once it has aged out).
func (f *Facts) TaskDescription() *ecstypes.Task {
	for i, t := range f.ECS.Tasks {
		if aws.ToString(t.TaskArn) == f.Task.TaskArn {
			return &f.ECS.Tasks[i]
		}
	}
	return nil
}

// TaskDefinition returns the task's task definition.
func (f *Facts) TaskDefinition() *ecstypes.TaskDefinition {
	for i, td := range f.ECS.TaskDefinitions {
		if aws.ToString(td.TaskDefinitionArn) == f.Task.TaskDefinitionArn {
			return &f.ECS.TaskDefinitions[i]
		}
	}
	if len(f.ECS.TaskDefinitions) == 1 && f.Task.TaskDefinitionArn == "" {
		return &f.ECS.TaskDefinitions[0]
	}
	return nil
}

// Subnet returns a subnet by ID.
func (f *Facts) Subnet(id string) *ec2types.Subnet {
	for i, s := range f.EC2.Subnets {
		if aws.ToString(s.SubnetId) == id {
			return &f.EC2.Subnets[i]
		}
	}
	return nil
}

// TaskSubnet returns the subnet the task's pull leaves from (PullSubnetID).
func (f *Facts) TaskSubnet() *ec2types.Subnet { return f.Subnet(f.PullSubnetID()) }

// VPCID returns the VPC of the subnet the task's pull leaves from, or "".
func (f *Facts) VPCID() string { return f.subnetVPC(f.PullSubnetID()) }

// subnetVPC returns the VPC of a subnet in the facts, or "".
func (f *Facts) subnetVPC(subnetID string) string {
	if s := f.Subnet(subnetID); s != nil {
		return aws.ToString(s.VpcId)
	}
	return ""
}

// VPC returns a VPC by ID.
func (f *Facts) VPC(id string) *ec2types.Vpc {
	for i, v := range f.EC2.Vpcs {
		if aws.ToString(v.VpcId) == id {
			return &f.EC2.Vpcs[i]
		}
	}
	return nil
}

// DNSSupport and DNSHostnames apply the AWS defaults when the attribute was not recorded.
func (f *Facts) DNSSupport(vpcID string) bool {
	if a, ok := f.EC2.VpcAttributes[vpcID]; ok && a.EnableDnsSupport != nil {
		return *a.EnableDnsSupport
	}
	return true
}

func (f *Facts) DNSHostnames(vpcID string) bool {
	if a, ok := f.EC2.VpcAttributes[vpcID]; ok && a.EnableDnsHostnames != nil {
		return *a.EnableDnsHostnames
	}
	if v := f.VPC(vpcID); v != nil && aws.ToBool(v.IsDefault) {
		return true
	}
	return false
}

// RouteTableFor returns the subnet's route table: its explicit association, else
// the main route table of its VPC. main reports which one was used.
func (f *Facts) RouteTableFor(subnetID string) (rt *ec2types.RouteTable, main bool) {
	return f.RouteTableIn(f.subnetVPC(subnetID), subnetID)
}

// RouteTableIn is RouteTableFor for a subnet of a known VPC that need not be
// in the facts (a NAT gateway's or an endpoint's); vpcID "" matches any VPC.
func (f *Facts) RouteTableIn(vpcID, subnetID string) (rt *ec2types.RouteTable, main bool) {
	var mainRT *ec2types.RouteTable
	for i, t := range f.EC2.RouteTables {
		for _, a := range t.Associations {
			if aws.ToString(a.SubnetId) == subnetID {
				return &f.EC2.RouteTables[i], false
			}
			if aws.ToBool(a.Main) && (vpcID == "" || aws.ToString(t.VpcId) == vpcID) && mainRT == nil {
				mainRT = &f.EC2.RouteTables[i]
			}
		}
	}
	return mainRT, mainRT != nil
}

// NetworkACLFor returns the subnet's network ACL: its explicit association, else the VPC default.
func (f *Facts) NetworkACLFor(subnetID string) (acl *ec2types.NetworkAcl, isDefault bool) {
	return f.NetworkACLIn(f.subnetVPC(subnetID), subnetID)
}

// NetworkACLIn is NetworkACLFor for a subnet of a known VPC that need not be in the facts.
func (f *Facts) NetworkACLIn(vpcID, subnetID string) (acl *ec2types.NetworkAcl, isDefault bool) {
	var def *ec2types.NetworkAcl
	for i, a := range f.EC2.NetworkAcls {
		for _, as := range a.Associations {
			if aws.ToString(as.SubnetId) == subnetID {
				return &f.EC2.NetworkAcls[i], false
			}
		}
		if aws.ToBool(a.IsDefault) && (vpcID == "" || aws.ToString(a.VpcId) == vpcID) && def == nil {
			def = &f.EC2.NetworkAcls[i]
		}
	}
	return def, def != nil
}

// SecurityGroup returns a security group by ID.
func (f *Facts) SecurityGroup(id string) *ec2types.SecurityGroup {
	for i, g := range f.EC2.SecurityGroups {
		if aws.ToString(g.GroupId) == id {
			return &f.EC2.SecurityGroups[i]
		}
	}
	return nil
}

// NATGateway returns a NAT gateway by ID.
func (f *Facts) NATGateway(id string) *ec2types.NatGateway {
	for i, n := range f.EC2.NatGateways {
		if aws.ToString(n.NatGatewayId) == id {
			return &f.EC2.NatGateways[i]
		}
	}
	return nil
}

// InternetGateway returns an internet gateway by ID.
func (f *Facts) InternetGateway(id string) *ec2types.InternetGateway {
	for i, g := range f.EC2.InternetGateways {
		if aws.ToString(g.InternetGatewayId) == id {
			return &f.EC2.InternetGateways[i]
		}
	}
	return nil
}

// NetworkInterface returns an ENI by ID.
func (f *Facts) NetworkInterface(id string) *ec2types.NetworkInterface {
	for i, n := range f.EC2.NetworkInterfaces {
		if aws.ToString(n.NetworkInterfaceId) == id {
			return &f.EC2.NetworkInterfaces[i]
		}
	}
	return nil
}

// AwsVpcConfiguration returns the task's network configuration: the service's,
// else the ENI's security groups. ok is false when neither is known.
func (f *Facts) AwsVpcConfiguration() (cfg ecstypes.AwsVpcConfiguration, ok bool) {
	if s := f.Service(); s != nil && s.NetworkConfiguration != nil && s.NetworkConfiguration.AwsvpcConfiguration != nil {
		return *s.NetworkConfiguration.AwsvpcConfiguration, true
	}
	if eni := f.NetworkInterface(f.Task.ENIID); eni != nil {
		cfg.Subnets = []string{aws.ToString(eni.SubnetId)}
		for _, g := range eni.Groups {
			cfg.SecurityGroups = append(cfg.SecurityGroups, aws.ToString(g.GroupId))
		}
		cfg.AssignPublicIp = ecstypes.AssignPublicIpDisabled
		if eni.Association != nil && aws.ToString(eni.Association.PublicIp) != "" {
			cfg.AssignPublicIp = ecstypes.AssignPublicIpEnabled
		}
		return cfg, true
	}
	return cfg, false
}

// TaskSecurityGroups returns the task's security group IDs, if known.
func (f *Facts) TaskSecurityGroups() []string {
	cfg, _ := f.AwsVpcConfiguration()
	return cfg.SecurityGroups
}

// Role returns an IAM role by ARN (or by name when the ARN's path differs).
func (f *Facts) Role(arn string) *iamtypes.RoleDetail {
	name := arn[strings.LastIndex(arn, "/")+1:]
	for i, r := range f.IAM.RoleDetailList {
		if aws.ToString(r.Arn) == arn || aws.ToString(r.RoleName) == name {
			return &f.IAM.RoleDetailList[i]
		}
	}
	return nil
}

// ManagedPolicy returns a managed policy by ARN.
func (f *Facts) ManagedPolicy(arn string) *iamtypes.ManagedPolicyDetail {
	for i, p := range f.IAM.Policies {
		if aws.ToString(p.Arn) == arn {
			return &f.IAM.Policies[i]
		}
	}
	return nil
}

// DefaultPolicyDocument returns the (possibly URL-encoded) default version document of a managed policy.
func DefaultPolicyDocument(p *iamtypes.ManagedPolicyDetail) (string, bool) {
	for _, v := range p.PolicyVersionList {
		if v.IsDefaultVersion || (p.DefaultVersionId != nil && aws.ToString(v.VersionId) == aws.ToString(p.DefaultVersionId)) {
			return aws.ToString(v.Document), true
		}
	}
	return "", false
}

func eqARNOrName(arn, name, want string) bool {
	if want == "" {
		return false
	}
	return arn == want || (name != "" && (name == want || strings.HasSuffix(want, "/"+name)))
}

// ClusterTag returns the value of a tag on the task's cluster.
func (f *Facts) ClusterTag(key string) (string, bool) {
	c := f.Cluster()
	if c == nil {
		return "", false
	}
	for _, t := range c.Tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value), true
		}
	}
	return "", false
}

// OnInstance reports a task placed on a container instance (the EC2 or
// EXTERNAL launch type), whose ECS agent pulls the image over the host's own
// network and, without an execution role, with the host's role.
func (f *Facts) OnInstance() bool {
	switch f.Task.LaunchType {
	case string(ecstypes.LaunchTypeEc2), string(ecstypes.LaunchTypeExternal):
		return true
	}
	return false
}

// ContainerInstance returns the container instance the event names.
func (f *Facts) ContainerInstance() *ecstypes.ContainerInstance {
	want := f.Task.ContainerInstanceArn
	if want == "" {
		return nil
	}
	for i, ci := range f.ECS.ContainerInstances {
		if arn := aws.ToString(ci.ContainerInstanceArn); arn == want || strings.HasSuffix(want, "/"+lastSegment(arn)) {
			return &f.ECS.ContainerInstances[i]
		}
	}
	return nil
}

// Instance returns the EC2 instance of the task's container instance.
func (f *Facts) Instance() *ec2types.Instance {
	ci := f.ContainerInstance()
	if ci == nil || aws.ToString(ci.Ec2InstanceId) == "" {
		return nil
	}
	for i, in := range f.EC2.Instances {
		if aws.ToString(in.InstanceId) == aws.ToString(ci.Ec2InstanceId) {
			return &f.EC2.Instances[i]
		}
	}
	return nil
}

// PullSubnetID is the subnet the image pull leaves from: on a container
// instance the instance's (whatever the task's network mode: the agent, not
// the task ENI, pulls), else the task ENI's. "" when it is not known.
func (f *Facts) PullSubnetID() string {
	if !f.OnInstance() {
		return f.Task.SubnetID
	}
	if in := f.Instance(); in != nil {
		return aws.ToString(in.SubnetId)
	}
	return ""
}

// InstanceGroups are the security groups of the instance's primary network
// interface, the one its own traffic (and so the pull) leaves through.
func InstanceGroups(in *ec2types.Instance) []string {
	var out []string
	for _, n := range in.NetworkInterfaces {
		if n.Attachment != nil && aws.ToInt32(n.Attachment.DeviceIndex) == 0 {
			for _, g := range n.Groups {
				out = append(out, aws.ToString(g.GroupId))
			}
			return out
		}
	}
	for _, g := range in.SecurityGroups {
		out = append(out, aws.ToString(g.GroupId))
	}
	return out
}

// InstanceRole returns the role of the instance's instance profile: the role
// whose InstanceProfileList holds the profile (GetAccountAuthorizationDetails'
// shape). profile is the profile's ARN, "" when the instance has none.
func (f *Facts) InstanceRole() (role *iamtypes.RoleDetail, profile string) {
	in := f.Instance()
	if in == nil || in.IamInstanceProfile == nil {
		return nil, ""
	}
	profile = aws.ToString(in.IamInstanceProfile.Arn)
	for i, r := range f.IAM.RoleDetailList {
		for _, p := range r.InstanceProfileList {
			if aws.ToString(p.Arn) == profile {
				return &f.IAM.RoleDetailList[i], profile
			}
		}
	}
	return nil, profile
}

// ContainerInstanceAttribute returns the value of a container instance
// attribute ("ecs.os-family"), or "".
func ContainerInstanceAttribute(ci *ecstypes.ContainerInstance, name string) string {
	for _, a := range ci.Attributes {
		if aws.ToString(a.Name) == name {
			return aws.ToString(a.Value)
		}
	}
	return ""
}

func lastSegment(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }
