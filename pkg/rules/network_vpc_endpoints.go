package rules

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
)

// NetworkVPCEndpoints: without an internet path, the VPC has every endpoint the task needs.
var NetworkVPCEndpoints = Rule{
	ID:          "network.vpc-endpoints",
	Title:       "VPC endpoints missing or unusable",
	Severity:    Critical,
	Summary:     "Without an internet path, the VPC has available ecr.dkr, ecr.api (platform 1.4.0+), logs and secrets interface endpoints with private DNS, and an S3 gateway endpoint on the task's route table",
	Remediation: "Create the missing VPC endpoints (aws ec2 create-vpc-endpoint), or give the subnet a NAT gateway route.",
	Needs:       destNeeds(),
	Check:       checkVPCEndpoints,
}

func checkVPCEndpoints(f *account.Facts) Finding {
	p, err := analyzePath(f)
	if err != nil {
		return pathError(err)
	}
	subnet := aws.ToString(p.Subnet.SubnetId)
	switch p.Kind {
	case routeInternet:
		return Finding{Status: Skip, Message: fmt.Sprintf("Subnet %s reaches the internet through %s, so the pull needs no VPC endpoints.", subnet, p.Target)}
	case routeUnproven:
		return Finding{Status: Skip, Message: fmt.Sprintf("Subnet %s's default route leaves the VPC through %s; network.route judges that path.", subnet, p.Target)}
	}
	if !p.endpointDesign() {
		// Neither path exists: network.route fails and names the fix; a second failure here is noise.
		return Finding{Status: Skip, Message: fmt.Sprintf("VPC %s has no ECR interface endpoints, so it is not built to pull through endpoints; network.route judges the missing internet path.", p.VPCID)}
	}
	n := requiredEndpoints(f)
	var present, problems, advice, otherAZ []string
	if len(n.NonECR) > 0 {
		problems = append(problems, fmt.Sprintf("image %s is outside ECR and cannot be pulled through VPC endpoints", strings.Join(n.NonECR, ", ")))
		advice = append(advice, "give the subnet a NAT gateway route, or serve the image from ECR (an ECR pull-through cache rule)")
	}
	for _, img := range n.OtherRegion {
		// PrivateLink endpoints serve their own region: a pull of another
		// region's registry through them resolves to public addresses the
		// subnet cannot reach.
		// https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html
		ref, _ := event.ParseImageRef(img)
		problems = append(problems, fmt.Sprintf("image %s is in ECR of region %s, and the VPC's endpoints serve only %s", img, ref.ECRRegion, p.Region))
		advice = append(advice, fmt.Sprintf("replicate the repository to %s (ECR replication) and use that image, or reach %s through a cross-region interface endpoint, or give the subnet a NAT gateway route", p.Region, ref.ECRRegion))
	}
	az := aws.ToString(p.Subnet.AvailabilityZone)
	for _, need := range n.Endpoints {
		var ep *ec2types.VpcEndpoint
		associated := true
		if need.Type == ec2types.VpcEndpointTypeGateway {
			ep, associated = p.s3Gateway(f)
		} else {
			ep = p.bestEndpoint(f, need.Service, need.Type)
		}
		label := fmt.Sprintf("%s %s endpoint", need.Service, strings.ToLower(string(need.Type)))
		if ep == nil {
			problems = append(problems, fmt.Sprintf("no %s (%s)", label, need.Why))
			advice = append(advice, p.createEndpointCommand(need))
			continue
		}
		id := aws.ToString(ep.VpcEndpointId)
		label += " " + id
		switch {
		case endpointState(*ep) != "available":
			problems = append(problems, fmt.Sprintf("%s is %s", label, endpointState(*ep)))
			advice = append(advice, fmt.Sprintf("check endpoint %s: aws ec2 describe-vpc-endpoints --vpc-endpoint-ids %s", id, id))
		case !associated:
			rt := aws.ToString(p.RouteTable.RouteTableId)
			problems = append(problems, fmt.Sprintf("%s is not associated with route table %s", label, rt))
			advice = append(advice, fmt.Sprintf("aws ec2 modify-vpc-endpoint --vpc-endpoint-id %s --add-route-table-ids %s", id, rt))
		case need.Type == ec2types.VpcEndpointTypeInterface && !aws.ToBool(ep.PrivateDnsEnabled):
			problems = append(problems, fmt.Sprintf("%s has private DNS disabled", label))
			advice = append(advice, fmt.Sprintf("aws ec2 modify-vpc-endpoint --vpc-endpoint-id %s --private-dns-enabled", id))
		default:
			present = append(present, label)
		}
		if need.Type == ec2types.VpcEndpointTypeInterface && !endpointInAZ(f, ep, az) {
			otherAZ = append(otherAZ, id)
		}
	}
	ev := p.evidence()
	ev["present"] = present
	if len(otherAZ) > 0 {
		// Cross-AZ traffic works, but costs and fails with that AZ.
		ev["notInTaskAZ"] = otherAZ
	}
	if len(problems) > 0 {
		ev["problems"] = problems
		return Finding{Status: Fail, Evidence: ev,
			Message: fmt.Sprintf("Subnet %s has no internet path and VPC %s lacks what the pull needs: %s.", subnet, p.VPCID, strings.Join(problems, "; ")),
			Advice:  "Fix the endpoints: " + strings.Join(advice, "; ") + "."}
	}
	if n.TaskDefUnknown { // not found; a failed read is an error through Needs
		return Finding{Status: Warn, Evidence: ev, Message: fmt.Sprintf(
			"VPC %s has the ECR and S3 endpoints, but the logs and secrets endpoints the task may need were not checked (task definition %s not found).", p.VPCID, f.Task.TaskDefinitionArn)}
	}
	return Finding{Status: Pass, Evidence: ev, Message: fmt.Sprintf("VPC %s has every endpoint the task needs: %s.", p.VPCID, strings.Join(present, ", "))}
}

// endpointInAZ reports whether an interface endpoint has a subnet in the AZ.
// An endpoint whose subnets are not in the facts is not held against it.
func endpointInAZ(f *account.Facts, ep *ec2types.VpcEndpoint, az string) bool {
	known := false
	for _, id := range ep.SubnetIds {
		if s := f.Subnet(id); s != nil {
			known = true
			if aws.ToString(s.AvailabilityZone) == az {
				return true
			}
		}
	}
	return !known
}
