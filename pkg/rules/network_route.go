package rules

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/pullmedic/pullmedic/pkg/account"
)

// NetworkRoute: the task subnet has a way out, or the VPC pulls through endpoints.
var NetworkRoute = Rule{
	ID:          "network.route",
	Title:       "no route to the registry",
	Severity:    Critical,
	Summary:     "The task subnet's default route reaches the internet (attached IGW, or available NAT gateway behind one), or the VPC pulls through ECR interface endpoints",
	Remediation: "Add a 0.0.0.0/0 route to an available NAT gateway (private subnet) or an attached internet gateway (public subnet), or create the ECR and S3 VPC endpoints.",
	Needs:       needs(),
	Check:       checkRoute,
}

func checkRoute(f *account.Facts) Finding {
	p, err := analyzePath(f)
	if err != nil {
		return pathError(err)
	}
	subnet := aws.ToString(p.Subnet.SubnetId)
	fd := Finding{Evidence: p.evidence()}
	switch {
	case p.Kind == routeInternet:
		fd.Status = Pass
		fd.Message = fmt.Sprintf("Subnet %s reaches the internet through %s.", subnet, p.Target)
	case p.Kind == routeUnproven:
		fd.Status = Warn
		fd.Message = fmt.Sprintf("Subnet %s: %s; make sure the registry is reachable that way.", subnet, p.Problem)
		fd.Advice = "Check the path beyond the VPC: " + p.Repair + "."
	case p.endpointDesign():
		fd.Status = Skip
		fd.Message = fmt.Sprintf("Subnet %s has no internet path (%s), but %s has ECR interface endpoints: network.vpc-endpoints judges that design.", subnet, p.Problem, p.VPCID)
	default:
		fd.Status = Fail
		fd.Message = fmt.Sprintf("Subnet %s cannot reach the registry: %s, and %s has no ECR interface endpoints.", subnet, p.Problem, p.VPCID)
		fd.Advice = "Give the subnet a way out: " + p.Repair + " (or create the ECR and S3 VPC endpoints)."
	}
	return fd
}
