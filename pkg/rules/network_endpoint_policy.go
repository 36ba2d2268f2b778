package rules

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/policy"
)

// NetworkEndpointPolicy: the policies of the endpoints the pull goes through let it through.
var NetworkEndpointPolicy = Rule{
	ID:          "network.endpoint-policy",
	Title:       "VPC endpoint policy blocks the pull",
	Severity:    High,
	Summary:     "VPC endpoint policies allow the pull: s3:GetObject on the ECR layer bucket (S3 gateway), the ECR pull actions (ecr.dkr) and ecr:GetAuthorizationToken (ecr.api)",
	Remediation: "Add a statement allowing the pull to the endpoint policy (aws ec2 modify-vpc-endpoint --policy-document replaces the whole policy: merge it).",
	Needs:       destNeeds(),
	Check:       checkEndpointPolicy,
}

// endpointRequest is one call of the pull that an endpoint policy must allow.
type endpointRequest struct {
	ep  *ec2types.VpcEndpoint
	req policy.Request
}

// layerBucket is where ECR keeps image layers; S3 gateway endpoint policies must allow reading it.
func layerBucket(region string) string {
	return "arn:aws:s3:::prod-" + region + "-starport-layer-bucket/*"
}

// endpointRequests lists the calls the pull makes through endpoints, with
// the condition keys they carry: the endpoint's own, and the pulling role's.
// The layer download from S3 uses a URL ECR signs, so its principal is not
// the task's but one no policy can name: only a statement for "*" lets it
// through, and no principal key is known for it.
func endpointRequests(f *account.Facts, p *netPath) []endpointRequest {
	var out []endpointRequest
	who := pullingPrincipal(f)
	principal := principalKeys(f, who)
	for _, d := range pullDestinations(f, p) {
		if d.Endpoint == nil {
			continue
		}
		through := endpointKeys(d.Endpoint)
		ctx := merged(principal, through)
		switch d.Service {
		case "s3":
			out = append(out, endpointRequest{d.Endpoint, policy.Request{Action: "s3:GetObject", Resource: layerBucket(p.Region), Principal: policy.Anonymous, Context: through}})
		case "ecr.api":
			out = append(out, endpointRequest{d.Endpoint, policy.Request{Action: "ecr:GetAuthorizationToken", Resource: "*", Principal: who, Context: ctx}})
		case "ecr.dkr":
			for _, c := range ecrImages(containerImages(f)) {
				for _, action := range pullActions {
					out = append(out, endpointRequest{d.Endpoint, policy.Request{Action: action, Resource: repositoryARN(f, c.Ref), Principal: who, Context: ctx}})
				}
			}
		}
	}
	return out
}

func checkEndpointPolicy(f *account.Facts) Finding {
	p, err := analyzePath(f)
	if err != nil {
		return pathError(err)
	}
	reqs := endpointRequests(f, p)
	if len(reqs) == 0 {
		return Finding{Status: Skip, Message: "The pull goes through no VPC endpoint whose policy could block it."}
	}
	var lines []string
	ev := p.evidence()
	s3Denied := reasonHas(f, "<Code>AccessDenied</Code>")
	ev["stopReasonS3AccessDenied"] = s3Denied
	worst := Finding{Status: Pass, Evidence: ev, Message: "The endpoint policies on the pull's path allow it."}
	docs := map[string]*policy.Document{}
	for _, r := range reqs {
		id := aws.ToString(r.ep.VpcEndpointId)
		doc, seen := docs[id]
		if !seen {
			if doc, err = endpointPolicy(r.ep); err != nil {
				return Finding{Status: Error, Evidence: ev, Message: fmt.Sprintf("could not be evaluated: the policy of endpoint %s cannot be read: %v", id, err)}
			}
			docs[id] = doc
		}
		what := fmt.Sprintf("%s on %s", r.req.Action, r.req.Resource)
		if doc == nil {
			lines = append(lines, fmt.Sprintf("%s: %s: no policy (full access)", id, what))
			continue
		}
		res := doc.Evaluate(r.req)
		lines = append(lines, fmt.Sprintf("%s: %s: %s", id, what, decisionText(res)))
		st := verdict(res)
		if st == Pass {
			continue
		}
		msg := fmt.Sprintf("Endpoint %s's policy does not clearly allow %s: %s.", id, what, decisionText(res))
		if st == Fail && s3Denied && strings.HasPrefix(r.req.Action, "s3:") {
			msg = strings.TrimSuffix(msg, ".") + ", which the stop reason's S3 AccessDenied confirms."
		}
		keepWorst(&worst, Finding{Status: st, Message: msg, Advice: endpointPolicyAdvice(id, r.req)})
	}
	ev["requests"] = lines
	return worst
}

// endpointPolicy parses an endpoint's policy; nil means none, which is full access.
func endpointPolicy(ep *ec2types.VpcEndpoint) (*policy.Document, error) {
	text := strings.TrimSpace(aws.ToString(ep.PolicyDocument))
	if text == "" {
		return nil, nil
	}
	doc, err := policy.Parse(text)
	if err != nil {
		return nil, err
	}
	doc.Name = "the policy of " + aws.ToString(ep.VpcEndpointId)
	return doc, nil
}

func endpointPolicyAdvice(id string, r policy.Request) string {
	principal := `"*"`
	if r.Principal != "" && r.Principal != policy.Anonymous {
		principal = fmt.Sprintf(`{"AWS":"%s"}`, r.Principal)
	}
	return fmt.Sprintf(`Merge this statement into the endpoint policy (--policy-document replaces it): aws ec2 modify-vpc-endpoint --vpc-endpoint-id %s --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":%s,"Action":"%s","Resource":"%s"}]}'`,
		id, principal, r.Action, r.Resource)
}
