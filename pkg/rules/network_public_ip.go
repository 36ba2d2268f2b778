package rules

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/pkg/account"
)

// NetworkPublicIP: a task whose default route is an internet gateway needs a public IP.
var NetworkPublicIP = Rule{
	ID:          "network.public-ip",
	Title:       "no public IP on a public subnet",
	Severity:    High,
	Summary:     "A task in a public subnet (default route to an internet gateway) has assignPublicIp ENABLED",
	Remediation: "Run the task with assignPublicIp=ENABLED, or move it to a private subnet behind a NAT gateway.",
	Needs:       needs(account.SrcService),
	Check:       checkPublicIP,
	Action:      ActionPublicIP,
}

func checkPublicIP(f *account.Facts) Finding {
	p, err := analyzePath(f)
	if err != nil {
		return pathError(err)
	}
	subnet := aws.ToString(p.Subnet.SubnetId)
	if !p.Public {
		return Finding{Status: Skip, Message: fmt.Sprintf("Subnet %s's default route does not go to an internet gateway, so %s needs no public IP.", subnet, p.Origin.who())}
	}
	ev := p.evidence()
	if p.Origin.onHost() {
		return instancePublicIP(f, p, ev)
	}
	if f.Task.Service != "" && f.Service() == nil {
		return Finding{Status: Error, Evidence: ev, Message: fmt.Sprintf("could not be evaluated: service %s not found", f.Task.Service)}
	}
	cfg, ok := f.AwsVpcConfiguration()
	if !ok {
		if msg := f.Err(account.SrcNetworkInterfaces); msg != "" {
			return Finding{Status: Error, Evidence: ev, Message: "could not be evaluated: " + msg}
		}
		return Finding{Status: Warn, Evidence: ev, Message: fmt.Sprintf(
			"Subnet %s is public (default route to %s), but whether the standalone task had a public IP is unknown (its ENI %s is gone); it needs assignPublicIp=ENABLED.",
			subnet, p.Target, f.Task.ENIID)}
	}
	ev["assignPublicIp"] = string(cfg.AssignPublicIp)
	if cfg.AssignPublicIp == ecstypes.AssignPublicIpEnabled {
		return Finding{Status: Pass, Evidence: ev, Message: fmt.Sprintf("The task in public subnet %s has a public IP.", subnet)}
	}
	fix := &Fix{Action: ActionPublicIP, Params: &Params{
		Cluster: f.Task.ClusterArn, Service: f.Task.Service, Subnets: cfg.Subnets, SecurityGroups: cfg.SecurityGroups,
	}}
	netCfg := fmt.Sprintf("--network-configuration 'awsvpcConfiguration={subnets=[%s],securityGroups=[%s],assignPublicIp=ENABLED}'",
		strings.Join(cfg.Subnets, ","), strings.Join(cfg.SecurityGroups, ","))
	fd := Finding{Status: Fail, Evidence: ev, Fix: fix}
	if s := f.Service(); s != nil {
		fix.Target, fix.AutoFixable = aws.ToString(s.ServiceArn), true
		fd.Message = fmt.Sprintf("Service %s runs tasks in public subnet %s (default route to %s) without a public IP, so they cannot reach the registry.", f.Task.Service, subnet, p.Target)
		fd.Advice = fmt.Sprintf("Enable public IPs on the service: aws ecs update-service --cluster %s --service %s %s", f.Task.ClusterName(), f.Task.Service, netCfg)
		return fd
	}
	fix.Target = f.Task.TaskArn
	fd.Message = fmt.Sprintf("The standalone task ran in public subnet %s (default route to %s) without a public IP, so it could not reach the registry.", subnet, p.Target)
	fd.Advice = fmt.Sprintf("Run the task again with a public IP: aws ecs run-task --cluster %s --task-definition %s --launch-type FARGATE %s",
		f.Task.ClusterName(), f.Task.TaskDefinitionArn[strings.LastIndex(f.Task.TaskDefinitionArn, "/")+1:], netCfg)
	return fd
}

// instancePublicIP judges a container instance in a public subnet: the agent
// pulls over the instance's address, so the instance needs the public IP (an
// awsvpc task on EC2 cannot even have one: assignPublicIp is for Fargate).
// There is no automatic fix: the address belongs to the whole host.
func instancePublicIP(f *account.Facts, p *netPath, ev map[string]any) Finding {
	in := p.Origin.Instance
	id, subnet := aws.ToString(in.InstanceId), aws.ToString(p.Subnet.SubnetId)
	if ip := aws.ToString(in.PublicIpAddress); ip != "" {
		ev["instancePublicIp"] = ip
		return Finding{Status: Pass, Evidence: ev, Message: fmt.Sprintf("Instance %s in public subnet %s has public IP %s, which the agent pulls through.", id, subnet, ip)}
	}
	ev["instancePublicIp"] = ""
	msg := fmt.Sprintf("Instance %s, the task's host, is in public subnet %s (default route to %s) without a public IP, so the ECS agent on it cannot reach the registry.", id, subnet, p.Target)
	if f.Task.ENIID != "" {
		msg += " The task's own ENI plays no part in the pull."
	}
	return Finding{Status: Fail, Evidence: ev, Message: msg,
		Advice: fmt.Sprintf("Give the cluster's instances public IPs (launch template: NetworkInterfaces AssociatePublicIpAddress=true, or aws ec2 modify-subnet-attribute --subnet-id %s --map-public-ip-on-launch, then replace the instances), "+
			"attach an Elastic IP to this one (aws ec2 allocate-address, then aws ec2 associate-address --instance-id %s --allocation-id ALLOCATION_ID), "+
			"or move the instances to private subnets behind a NAT gateway. %s", subnet, id, hostManualOnly)}
}
