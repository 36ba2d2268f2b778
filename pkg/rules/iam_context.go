package rules

import (
	"fmt"
	"maps"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/policy"
)

// callPath is what the facts tell of the way the pull's calls leave the
// task, for the endpoint condition keys. aws:SourceVpce and aws:SourceVpc
// are in a request's context only when it comes through a VPC endpoint
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html,
// aws:SourceVpce "Availability"), so a call that goes out through an
// internet gateway or NAT gateway has neither.
type callPath struct {
	path  *netPath // nil when the path is not known: the endpoint keys stay unknown
	dests []pullDest
}

// newCallPath follows the task's path. A failed read or an unfollowable
// path leaves it unknown rather than guessed: without the endpoints, a call
// would wrongly look like it leaves through NAT.
func newCallPath(f *account.Facts) callPath {
	if _, failed := readFailed(f, pathSources...); failed {
		return callPath{}
	}
	p, err := analyzePath(f)
	if err != nil {
		return callPath{}
	}
	return callPath{path: p, dests: pullDestinations(f, p)}
}

// route finds the endpoint that carries a call to svc ("ecr.dkr",
// "ecr.api", "s3", "secretsmanager", "ssm") in region ("" for the task's):
// ep nil and known true on a proven internet path. Interface endpoints
// serve only their own region, so another region's calls go out the
// internet way. Any other path (unproven routes, no route at all) is not known.
func (c callPath) route(svc, region string) (ep *ec2types.VpcEndpoint, known bool) {
	if c.path == nil || svc == "" {
		return nil, false
	}
	if region == "" || region == c.path.Region {
		for _, d := range c.dests {
			if d.Service == svc && d.Endpoint != nil {
				return d.Endpoint, true
			}
		}
	}
	return nil, c.path.Kind == routeInternet
}

// keys are the endpoint condition keys of a call to svc in region.
func (c callPath) keys(svc, region string) policy.Context {
	switch ep, known := c.route(svc, region); {
	case !known:
		return nil
	case ep != nil:
		return endpointKeys(ep)
	}
	return policy.Context{policy.KeySourceVpce: policy.Absent, policy.KeySourceVpc: policy.Absent}
}

// via says how a call to svc in region leaves, for a message ("" when not known).
func (c callPath) via(svc, region string) string {
	switch ep, known := c.route(svc, region); {
	case !known:
		return ""
	case ep != nil:
		return fmt.Sprintf("its calls to %s go through VPC endpoint %s", svc, aws.ToString(ep.VpcEndpointId))
	}
	return fmt.Sprintf("its calls to %s leave through %s, not a VPC endpoint", svc, c.path.Target)
}

// endpointKeys are the endpoint condition keys of a call through ep.
func endpointKeys(ep *ec2types.VpcEndpoint) policy.Context {
	return policy.Context{
		policy.KeySourceVpce: policy.Is(aws.ToString(ep.VpcEndpointId)),
		policy.KeySourceVpc:  policy.Is(aws.ToString(ep.VpcId)),
	}
}

// principalKeys are aws:PrincipalAccount and aws:PrincipalArn of who, the
// pulling principal (pullingPrincipal): for a role session,
// aws:PrincipalArn is the role's ARN, path included
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn).
// The path is known when the role was collected or the task definition
// names it by ARN; a bare account knows only aws:PrincipalAccount.
// aws:PrincipalOrgID is not among the facts, so it is never set here and
// conditions on it stay undecided.
func principalKeys(f *account.Facts, who string) policy.Context {
	if !strings.HasPrefix(who, "arn:") {
		if who == "" || who == policy.Anonymous {
			return nil
		}
		return policy.Context{policy.KeyPrincipalAccount: policy.Is(who)}
	}
	ctx := policy.Context{policy.KeyPrincipalAccount: policy.Is(arnField(who, 4))}
	if r := f.Role(who); r != nil && aws.ToString(r.Arn) != "" {
		ctx[policy.KeyPrincipalArn] = policy.Is(aws.ToString(r.Arn))
	} else if td := f.TaskDefinition(); td != nil && aws.ToString(td.ExecutionRoleArn) == who {
		ctx[policy.KeyPrincipalArn] = policy.Is(who)
	}
	return ctx
}

// merged joins the keys of several sources into one request context.
func merged(ctxs ...policy.Context) policy.Context {
	out := policy.Context{}
	for _, c := range ctxs {
		maps.Copy(out, c)
	}
	return out
}

// callService is the endpoint service that carries a call of the task's
// own: the registry auth goes to ecr.api, the image calls to ecr.dkr.
// kms:Decrypt is made by Secrets Manager or SSM on the role's behalf, not
// from the task's network, so its endpoint keys are not known ("").
func callService(action string) string {
	a := strings.ToLower(action)
	switch {
	case a == "ecr:getauthorizationtoken":
		return "ecr.api"
	case a == "ecr:batchgetimage", a == "ecr:getdownloadurlforlayer", a == "ecr:batchchecklayeravailability":
		return "ecr.dkr"
	case strings.HasPrefix(a, "secretsmanager:"):
		return "secretsmanager"
	case strings.HasPrefix(a, "ssm:"):
		return "ssm"
	}
	return ""
}
