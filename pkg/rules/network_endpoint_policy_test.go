package rules

import (
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/pullmedic/pullmedic/pkg/account"
)

// endpointPolicyDoc sets an endpoint's policy document.
func endpointPolicyDoc(id, doc string) func(*account.Facts) {
	return func(f *account.Facts) { fxEndpoint(f, id).PolicyDocument = aws.String(doc) }
}

const (
	fullAccess  = `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`
	otherBucket = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::my-bucket/*"}]}`
	layerOnly   = `{"Statement":[{"Effect":"Allow","Principal":"*","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*"]}]}`
	denyBatch   = `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Sid":"NoPull","Effect":"Deny","Principal":"*","Action":"ecr:BatchGetImage","Resource":"*"}]}`
)

func TestNetworkEndpointPolicy(t *testing.T) {
	runRuleCases(t, NetworkEndpointPolicy, []ruleCase{
		{name: "no policies passes", facts: endpointVPC, status: Pass, check: func(t *testing.T, fd Finding) {
			if n := len(fd.Evidence["requests"].([]string)); n != 4 {
				t.Errorf("requests = %q, want S3, ecr.api and two ecr.dkr actions", fd.Evidence["requests"])
			}
		}},
		{name: "full access and layer-only policies pass", facts: with(endpointVPC, func(f *account.Facts) {
			endpointPolicyDoc("vpce-s3", layerOnly)(f)
			endpointPolicyDoc("vpce-ecr-dkr", fullAccess)(f)
		}), status: Pass},
		{name: "URL-encoded policy is read", facts: with(endpointVPC, endpointPolicyDoc("vpce-s3", url.QueryEscape(layerOnly))), status: Pass},
		{name: "nat path without endpoints skips", facts: natVPC, status: Skip, msg: "no VPC endpoint"},
		{name: "S3 policy without the layer bucket fails", facts: with(endpointVPC, endpointPolicyDoc("vpce-s3", otherBucket)), status: Fail,
			msg:   "Endpoint vpce-s3's policy does not clearly allow s3:GetObject on arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*: no policy allows it.",
			check: adviceHas(`aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-s3 --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"`)},
		{name: "S3 policy for the account only fails: ECR signs the layer URLs", facts: with(endpointVPC, endpointPolicyDoc("vpce-s3",
			`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:*","Resource":"*"}]}`)), status: Fail,
			msg: "s3:GetObject on arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*: no policy allows it"},
		{name: "S3 AccessDenied stop reason confirms", facts: with(endpointVPC, func(f *account.Facts) {
			endpointPolicyDoc("vpce-s3", otherBucket)(f)
			f.Task.Failure = "CannotPullContainerError: error pulling image configuration: download failed: 403 Forbidden <?xml?><Error><Code>AccessDenied</Code></Error>"
		}), status: Fail, msg: "confirms"},
		{name: "S3 gateway on a NAT path is still judged", facts: with(natVPC, func(f *account.Facts) {
			s3 := endpointVPC()
			f.EC2.VpcEndpoints = s3.EC2.VpcEndpoints[3:]
			endpointPolicyDoc("vpce-s3", otherBucket)(f)
		}), status: Fail, msg: "vpce-s3"},
		{name: "explicit deny on the ECR endpoint fails", facts: with(endpointVPC, endpointPolicyDoc("vpce-ecr-dkr", denyBatch)), status: Fail,
			msg: "ecr:BatchGetImage on arn:aws:ecr:eu-west-1:111122223333:repository/api: explicitly denied by the policy of vpce-ecr-dkr, statement NoPull"},
		{name: "policy for another role fails", facts: with(endpointVPC, endpointPolicyDoc("vpce-ecr-api",
			`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/other"},"Action":"ecr:*","Resource":"*"}]}`)),
			status: Fail, msg: "ecr:GetAuthorizationToken"},
		{name: "policy for the execution role passes", facts: with(endpointVPC, endpointPolicyDoc("vpce-ecr-api",
			`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/api-exec"},"Action":"ecr:*","Resource":"*"}]}`)),
			status: Pass},
		{name: "allow scoped to the endpoint's own VPC passes", facts: with(endpointVPC, endpointPolicyDoc("vpce-s3",
			`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpc":"vpc-1"}}}]}`)),
			status: Pass, check: evidenceHas(`vpce-s3: s3:GetObject on arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*: allowed by the policy of vpce-s3, statement Statement[0], whose condition holds for this pull (aws:SourceVpc = \"vpc-1\")`)},
		{name: "allow only through another endpoint fails", facts: with(endpointVPC, endpointPolicyDoc("vpce-s3",
			`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-other"}}}]}`)),
			status: Fail, msg: "s3:GetObject on arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*: no policy allows it"},
		{name: "allow for the execution role by ARN pattern passes", facts: with(endpointVPC, endpointPolicyDoc("vpce-ecr-dkr",
			`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/api-*"},"StringEquals":{"aws:PrincipalAccount":"111122223333"}}}]}`)),
			status: Pass},
		{name: "deny to other accounts does not touch the task's", facts: with(endpointVPC, endpointPolicyDoc("vpce-ecr-api",
			`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Sid":"OwnAccount","Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalAccount":"111122223333"}}}]}`)),
			status: Pass},
		{name: "organization condition stays a warn", facts: with(endpointVPC, endpointPolicyDoc("vpce-ecr-api",
			`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}]}`)),
			status: Warn, msg: "only under a condition (not decidable from the facts: StringEquals aws:PrincipalOrgID)"},
		{name: "unreadable policy is an error", facts: with(endpointVPC, endpointPolicyDoc("vpce-s3", `{"Statement":`)), status: Error, msg: "policy of endpoint vpce-s3 cannot be read"},
		{name: "endpoints read failed is an error", facts: failedRead(endpointVPC, account.SrcVPCEndpoints), status: Error, msg: "AccessDenied"},
		{name: "subnet not found is an error", facts: with(endpointVPC, func(f *account.Facts) { f.EC2.Subnets = nil }), status: Error, msg: "not found"},
	})
}
