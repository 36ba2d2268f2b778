package rules

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/pullmedic/pullmedic/pkg/account"
)

// The network and DNS rules on the EC2 launch type judge the container
// instance's path, whatever the task's own network placement.

// chainStartsAtHost checks the evidence chain's first hop.
func chainStartsAtHost(t *testing.T, fd Finding) {
	t.Helper()
	chain, _ := fd.Evidence["chain"].([]string)
	if len(chain) == 0 || chain[0] != "instance i-host 10.0.1.50" {
		t.Errorf("chain = %v, want it to start at instance i-host 10.0.1.50", chain)
	}
}

// manualOnly checks that a failure on a host path carries no fix and says why.
func manualOnly(t *testing.T, fd Finding) {
	t.Helper()
	if fd.Fix != nil {
		t.Errorf("fix = %+v on an EC2 path, want none", fd.Fix)
	}
	if !strings.Contains(fd.Advice, hostManualOnly) {
		t.Errorf("advice %q does not say why nothing is fixed automatically", fd.Advice)
	}
}

// awsvpcOnHost is an awsvpc task on EC2: its ENI is in the public subnet
// without a public IP (which EC2 tasks cannot have), its host in the NAT subnet.
func awsvpcOnHost(f *account.Facts) {
	onHost("subnet-app")(f)
	f.Task.SubnetID, f.Task.ENIID, f.Task.PrivateIP = "subnet-pub", "eni-task", "10.0.0.99"
}

func TestNetworkRouteOnHost(t *testing.T) {
	runRuleCases(t, NetworkRoute, []ruleCase{
		{name: "bridge task on a host behind NAT passes", facts: with(natVPC, onHost("subnet-app")), status: Pass, msg: "Subnet subnet-app reaches the internet through nat-1", check: chainStartsAtHost},
		{name: "host in a private subnet without NAT fails", facts: with(natVPC, func(f *account.Facts) {
			onHost("subnet-app")(f)
			rt := fxRouteTable(f, "rtb-app")
			rt.Routes = rt.Routes[:1]
		}), status: Fail, msg: "Subnet subnet-app cannot reach the registry", check: chainStartsAtHost},
		{name: "awsvpc task: the host's subnet is judged, not the ENI's", facts: with(natVPC, awsvpcOnHost), status: Pass, msg: "Subnet subnet-app"},
		{name: "no container instance in the event", facts: with(natVPC, func(f *account.Facts) {
			onHost("subnet-app")(f)
			f.Task.ContainerInstanceArn = ""
		}), status: Error, msg: "names no container instance"},
		{name: "container instance not collected", facts: with(natVPC, func(f *account.Facts) {
			onHost("subnet-app")(f)
			f.ECS.ContainerInstances = nil
		}), status: Error, msg: "container instance " + fxHostARN + " not found"},
		{name: "instance read denied", facts: failedRead(with(natVPC, onHost("subnet-app")), account.SrcInstance), status: Error, msg: "AccessDenied"},
		{name: "external host has no VPC path", facts: with(natVPC, func(f *account.Facts) {
			onHost("subnet-app")(f)
			f.Task.LaunchType = "EXTERNAL"
			hostCI(f).Ec2InstanceId = nil
		}), status: Skip, msg: "external host"},
	})
}

func TestNetworkPublicIPOnHost(t *testing.T) {
	runRuleCases(t, NetworkPublicIP, []ruleCase{
		{name: "host in a public subnet without public IP fails, manual only", facts: with(natVPC, onHost("subnet-pub")), status: Fail,
			msg:   "Instance i-host, the task's host, is in public subnet subnet-pub",
			check: both(manualOnly, func(t *testing.T, fd Finding) { adviceHasText(t, fd, "associate-address --instance-id i-host") })},
		{name: "host with a public IP passes", facts: with(natVPC, func(f *account.Facts) {
			onHost("subnet-pub")(f)
			hostInstance(f).PublicIpAddress = aws.String("34.1.2.3")
		}), status: Pass, msg: "has public IP 34.1.2.3"},
		{name: "awsvpc ENI in a public subnet without public IP is not the pull's: skip", facts: with(natVPC, awsvpcOnHost), status: Skip, msg: "instance i-host needs no public IP"},
		{name: "awsvpc task on a public host: the ENI plays no part", facts: with(natVPC, func(f *account.Facts) {
			awsvpcOnHost(f)
			hostInstance(f).SubnetId = aws.String("subnet-pub")
		}), status: Fail, msg: "The task's own ENI plays no part in the pull."},
	})
}

func TestNetworkTaskSGEgressOnHost(t *testing.T) {
	closed := func(f *account.Facts) {
		onHost("subnet-app")(f)
		for i := range f.EC2.SecurityGroups {
			if aws.ToString(f.EC2.SecurityGroups[i].GroupId) == "sg-host" {
				f.EC2.SecurityGroups[i].IpPermissionsEgress = nil
			}
		}
	}
	runRuleCases(t, NetworkTaskSGEgress, []ruleCase{
		{name: "host group allows 443 out", facts: with(natVPC, onHost("subnet-app")), status: Pass, msg: "Instance i-host's security groups (sg-host) allow outbound TCP 443",
			check: evidenceHas(`"instanceSecurityGroups":["sg-host"]`)},
		{name: "host group closed fails, manual only", facts: with(natVPC, closed), status: Fail, msg: "Instance i-host's security groups (sg-host) allow no outbound TCP 443",
			check: manualOnly},
		{name: "primary interface's groups are the instance's", facts: with(natVPC, func(f *account.Facts) {
			closed(f)
			hostInstance(f).NetworkInterfaces = []ec2types.InstanceNetworkInterface{
				{Attachment: &ec2types.InstanceNetworkInterfaceAttachment{DeviceIndex: aws.Int32(1)}, Groups: []ec2types.GroupIdentifier{{GroupId: aws.String("sg-host")}}},
				{Attachment: &ec2types.InstanceNetworkInterfaceAttachment{DeviceIndex: aws.Int32(0)}, Groups: []ec2types.GroupIdentifier{{GroupId: aws.String("sg-task")}}},
			}
		}), status: Pass, msg: "(sg-task)"},
	})
}

func TestNetworkEndpointSGOnHost(t *testing.T) {
	runRuleCases(t, NetworkEndpointSG, []ruleCase{
		{name: "endpoints admit the task's group, not the host's: fail, manual only", facts: with(endpointVPC, func(f *account.Facts) {
			onHost("subnet-app")(f)
			for i := range f.EC2.SecurityGroups {
				if aws.ToString(f.EC2.SecurityGroups[i].GroupId) == "sg-host" {
					f.EC2.SecurityGroups[i].IpPermissionsEgress = []ec2types.IpPermission{fxPerm(toGroup("sg-ep")), fxPerm(toPrefixList("pl-s3"))}
				}
			}
		}), status: Fail, msg: "allow no inbound TCP 443 from instance i-host (sg-host, 10.0.1.50/32)", check: manualOnly},
		{name: "endpoints admit the host's group", facts: with(endpointVPC, func(f *account.Facts) {
			onHost("subnet-app")(f)
			f.EC2.SecurityGroups[1].IpPermissions = append(f.EC2.SecurityGroups[1].IpPermissions, fxPerm(toGroup("sg-host")))
		}), status: Pass, msg: "endpoints instance i-host uses allow TCP 443"},
	})
}

func TestNetworkNACLOnHost(t *testing.T) {
	runRuleCases(t, NetworkNACL, []ruleCase{
		{name: "endpoint subnet ACL judged against the instance's address", facts: with(endpointVPC, func(f *account.Facts) {
			onHost("subnet-app")(f)
			f.EC2.NetworkAcls = append(f.EC2.NetworkAcls, ec2types.NetworkAcl{NetworkAclId: aws.String("acl-ep"), VpcId: aws.String("vpc-1"),
				Associations: []ec2types.NetworkAclAssociation{{SubnetId: aws.String("subnet-ep")}},
				Entries: []ec2types.NetworkAclEntry{
					fxACLEntry(90, false, "6", 443, 443, "10.0.1.50/32", ec2types.RuleActionDeny),
					fxACLEntry(100, false, "-1", 0, 0, "0.0.0.0/0", ec2types.RuleActionAllow),
					fxACLEntry(100, true, "-1", 0, 0, "0.0.0.0/0", ec2types.RuleActionAllow)}})
		}), status: Fail, msg: "ingress TCP 443 from 10.0.1.50/32"},
	})
}

func TestDNSOnHost(t *testing.T) {
	runRuleCases(t, DNSDHCPOptions, []ruleCase{
		{name: "bridge task: the host's VPC is judged", facts: with(natVPC, onHost("subnet-app")), status: Pass, msg: "VPC vpc-1 uses the default DHCP options"},
		{name: "host not collected", facts: with(natVPC, func(f *account.Facts) {
			onHost("subnet-app")(f)
			f.EC2.Instances = nil
		}), status: Error, msg: "instance i-host of container instance"},
	})
	runRuleCases(t, DNSVPCDNS, []ruleCase{
		{name: "bridge task: the host's VPC resolves", facts: with(natVPC, onHost("subnet-app")), status: Pass, msg: "VPC vpc-1 resolves names", check: chainStartsAtHost},
	})
}
