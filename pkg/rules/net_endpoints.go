package rules

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/pkg/account"
)

// serviceName is the endpoint service name of an AWS service in the region.
func serviceName(region, svc string) string {
	return "com.amazonaws." + region + "." + svc
}

// isService matches an endpoint service name; the suffix match also covers
// the China partition's "cn.com.amazonaws." names.
func isService(name, region, svc string) bool {
	if region == "" {
		return strings.HasSuffix(name, "."+svc)
	}
	return strings.HasSuffix(name, "."+region+"."+svc)
}

// endpoints returns the VPC's live endpoints of a service and type.
func (p *netPath) endpoints(f *account.Facts, svc string, typ ec2types.VpcEndpointType) []ec2types.VpcEndpoint {
	var out []ec2types.VpcEndpoint
	for _, ep := range f.EC2.VpcEndpoints {
		st := endpointState(ep)
		if aws.ToString(ep.VpcId) == p.VPCID && ep.VpcEndpointType == typ &&
			isService(aws.ToString(ep.ServiceName), p.Region, svc) && st != "deleted" && st != "deleting" {
			out = append(out, ep)
		}
	}
	return out
}

// bestEndpoint prefers an available endpoint of the service, else any.
func (p *netPath) bestEndpoint(f *account.Facts, svc string, typ ec2types.VpcEndpointType) *ec2types.VpcEndpoint {
	eps := p.endpoints(f, svc, typ)
	for i := range eps {
		if endpointState(eps[i]) == "available" {
			return &eps[i]
		}
	}
	if len(eps) > 0 {
		return &eps[0]
	}
	return nil
}

// endpointState is the endpoint's state in lower case: the API says
// "available", some tools and older snapshots "Available".
func endpointState(ep ec2types.VpcEndpoint) string {
	return strings.ToLower(string(ep.State))
}

// s3Gateway returns the VPC's S3 gateway endpoint, preferring one associated
// with the task's route table, and whether it is.
func (p *netPath) s3Gateway(f *account.Facts) (*ec2types.VpcEndpoint, bool) {
	eps := p.endpoints(f, "s3", ec2types.VpcEndpointTypeGateway)
	rt := aws.ToString(p.RouteTable.RouteTableId)
	for i := range eps {
		if Contains(eps[i].RouteTableIds, rt) {
			return &eps[i], true
		}
	}
	if len(eps) > 0 {
		return &eps[0], false
	}
	return nil, false
}

// s3PrefixList returns the S3 prefix list: from the task route table's route to
// the gateway endpoint, else by its well-known name. "" when unknown.
func (p *netPath) s3PrefixList(f *account.Facts, gw *ec2types.VpcEndpoint) string {
	if gw != nil {
		for _, r := range p.RouteTable.Routes {
			if aws.ToString(r.GatewayId) == aws.ToString(gw.VpcEndpointId) && aws.ToString(r.DestinationPrefixListId) != "" {
				return aws.ToString(r.DestinationPrefixListId)
			}
		}
	}
	for _, pl := range f.EC2.PrefixLists {
		if isService(aws.ToString(pl.PrefixListName), p.Region, "s3") {
			return aws.ToString(pl.PrefixListId)
		}
	}
	return ""
}

// prefixList returns a prefix list by ID, or nil.
func prefixList(f *account.Facts, id string) *ec2types.PrefixList {
	for i, pl := range f.EC2.PrefixLists {
		if aws.ToString(pl.PrefixListId) == id {
			return &f.EC2.PrefixLists[i]
		}
	}
	return nil
}

// endpointNeed is one endpoint a task without internet access needs, and why.
type endpointNeed struct {
	Service string
	Type    ec2types.VpcEndpointType
	Why     string
}

// taskNeeds is what the task pulls from and reads at start, as far as the
// event and the task definition tell.
type taskNeeds struct {
	Endpoints []endpointNeed
	ECR       bool     // some image is in private ECR
	NonECR    []string // images no VPC endpoint can serve
	// OtherRegion are ECR images of another region: interface endpoints
	// serve only their own region's registries.
	OtherRegion []string
	// TaskDefUnknown is set when the task definition could not be read, so
	// logs and secrets needs are unknown.
	TaskDefUnknown bool
}

// requiredEndpoints works out the endpoints the task needs without internet access.
func requiredEndpoints(f *account.Facts) taskNeeds {
	var n taskNeeds
	images := containerImages(f)
	n.ECR = len(images) == 0 // nothing known: assume the usual ECR pull
	region := taskRegion(f)
	for _, c := range images {
		switch {
		case c.RefErr == nil && c.Ref.IsECR() && region != "" && c.Ref.ECRRegion != region:
			if !Contains(n.OtherRegion, c.Image) {
				n.OtherRegion = append(n.OtherRegion, c.Image)
			}
		case c.RefErr == nil && c.Ref.IsECR():
			n.ECR = true
		case !Contains(n.NonECR, c.Image):
			n.NonECR = append(n.NonECR, c.Image)
		}
	}
	if n.ECR {
		n.Endpoints = append(n.Endpoints, endpointNeed{"ecr.dkr", ec2types.VpcEndpointTypeInterface, "image pull"})
		if needsECRAPI(f) {
			n.Endpoints = append(n.Endpoints, endpointNeed{"ecr.api", ec2types.VpcEndpointTypeInterface, "registry auth (platform 1.4.0+)"})
		}
		n.Endpoints = append(n.Endpoints, endpointNeed{"s3", ec2types.VpcEndpointTypeGateway, "image layers"})
	}
	td := f.TaskDefinition()
	if td == nil {
		n.TaskDefUnknown = true
		return n
	}
	var logs, asm, ssm bool
	for _, c := range td.ContainerDefinitions {
		logs = logs || (c.LogConfiguration != nil && c.LogConfiguration.LogDriver == ecstypes.LogDriverAwslogs)
		asm = asm || (c.RepositoryCredentials != nil && aws.ToString(c.RepositoryCredentials.CredentialsParameter) != "")
		for _, s := range c.Secrets {
			if strings.Contains(aws.ToString(s.ValueFrom), ":secretsmanager:") {
				asm = true
			} else {
				ssm = true
			}
		}
	}
	for _, e := range []struct {
		on       bool
		svc, why string
	}{{logs, "logs", "awslogs log driver"}, {asm, "secretsmanager", "secrets or repositoryCredentials"}, {ssm, "ssm", "SSM parameter secrets"}} {
		if e.on {
			n.Endpoints = append(n.Endpoints, endpointNeed{e.svc, ec2types.VpcEndpointTypeInterface, e.why})
		}
	}
	return n
}

// needsECRAPI: Fargate before platform 1.4.0 made its ECR auth calls from an
// AWS-managed network; platform 1.4.0+ (and Windows, and EC2 hosts) call ecr.api themselves.
func needsECRAPI(f *account.Facts) bool {
	if !strings.EqualFold(f.Task.LaunchType, "FARGATE") {
		return true
	}
	if td := f.TaskDefinition(); td != nil && td.RuntimePlatform != nil &&
		strings.HasPrefix(string(td.RuntimePlatform.OperatingSystemFamily), "WINDOWS") {
		return true
	}
	v := f.Task.PlatformVersion
	if v == "" || strings.EqualFold(v, "LATEST") {
		return true
	}
	parts := strings.SplitN(v, ".", 3)
	major, err1 := strconv.Atoi(parts[0])
	minor := 0
	var err2 error
	if len(parts) > 1 {
		minor, err2 = strconv.Atoi(parts[1])
	}
	if err1 != nil || err2 != nil {
		return true
	}
	return major > 1 || (major == 1 && minor >= 4)
}

// createEndpointCommand is the aws CLI line that creates a missing endpoint.
func (p *netPath) createEndpointCommand(need endpointNeed) string {
	if need.Type == ec2types.VpcEndpointTypeGateway {
		return fmt.Sprintf("aws ec2 create-vpc-endpoint --vpc-id %s --vpc-endpoint-type Gateway --service-name %s --route-table-ids %s",
			p.VPCID, serviceName(p.Region, need.Service), aws.ToString(p.RouteTable.RouteTableId))
	}
	return fmt.Sprintf("aws ec2 create-vpc-endpoint --vpc-id %s --vpc-endpoint-type Interface --service-name %s --subnet-ids %s --security-group-ids SG_ALLOWING_443_FROM_TASKS --private-dns-enabled",
		p.VPCID, serviceName(p.Region, need.Service), aws.ToString(p.Subnet.SubnetId))
}
