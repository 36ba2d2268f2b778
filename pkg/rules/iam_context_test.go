package rules

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/policy"
)

func TestIAMCallPath(t *testing.T) {
	tests := []struct {
		name        string
		facts       func() *account.Facts
		svc, region string
		wantVpce    string
		wantVpc     string
		wantVia     string
	}{
		{"NAT path has no endpoint keys", natVPC, "ecr.dkr", "", "aws:SourceVpce absent", "aws:SourceVpc absent", "its calls to ecr.dkr leave through nat-1, not a VPC endpoint"},
		{"endpoint design goes through the endpoint", endpointVPC, "ecr.dkr", "eu-west-1", `aws:SourceVpce = "vpce-ecr-dkr"`, `aws:SourceVpc = "vpc-1"`, "its calls to ecr.dkr go through VPC endpoint vpce-ecr-dkr"},
		{"S3 through the gateway endpoint", endpointVPC, "s3", "", `aws:SourceVpce = "vpce-s3"`, `aws:SourceVpc = "vpc-1"`, "its calls to s3 go through VPC endpoint vpce-s3"},
		{"NAT path with private DNS endpoints uses them", natWithEndpoints, "ecr.api", "", `aws:SourceVpce = "vpce-ecr-api"`, `aws:SourceVpc = "vpc-1"`, "its calls to ecr.api go through VPC endpoint vpce-ecr-api"},
		{"another region's registry goes out through NAT", natWithEndpoints, "ecr.dkr", "us-east-1", "aws:SourceVpce absent", "aws:SourceVpc absent", "its calls to ecr.dkr leave through nat-1, not a VPC endpoint"},
		{"endpoint without private DNS is bypassed on a NAT path", with(natWithEndpoints, func(f *account.Facts) {
			fxEndpoint(f, "vpce-ecr-dkr").PrivateDnsEnabled = aws.Bool(false)
		}), "ecr.dkr", "", "aws:SourceVpce absent", "aws:SourceVpc absent", "its calls to ecr.dkr leave through nat-1, not a VPC endpoint"},
		{"missing endpoint on the endpoint design is unknown", with(endpointVPC, dropEndpoint("vpce-ecr-dkr")), "ecr.dkr", "", "aws:SourceVpce unknown", "aws:SourceVpc unknown", ""},
		{"transit gateway route is unknown", with(natVPC, func(f *account.Facts) {
			*defaultRouteOf(f, "rtb-app") = fxRoute("0.0.0.0/0", func(r *ec2types.Route) { r.TransitGatewayId = aws.String("tgw-1") })
		}), "ecr.dkr", "", "aws:SourceVpce unknown", "aws:SourceVpc unknown", ""},
		{"failed endpoint read is unknown, not NAT", failedRead(natVPC, account.SrcVPCEndpoints), "ecr.dkr", "", "aws:SourceVpce unknown", "aws:SourceVpc unknown", ""},
		{"path without subnet is unknown", with(natVPC, func(f *account.Facts) { f.EC2.Subnets = nil }), "ecr.dkr", "", "aws:SourceVpce unknown", "aws:SourceVpc unknown", ""},
		{"a call made on the role's behalf is unknown", natVPC, callService("kms:Decrypt"), "", "aws:SourceVpce unknown", "aws:SourceVpc unknown", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCallPath(tc.facts())
			ctx := c.keys(tc.svc, tc.region)
			if got := ctx.Describe(policy.KeySourceVpce); got != tc.wantVpce {
				t.Errorf("aws:SourceVpce: %s, want %s", got, tc.wantVpce)
			}
			if got := ctx.Describe(policy.KeySourceVpc); got != tc.wantVpc {
				t.Errorf("aws:SourceVpc: %s, want %s", got, tc.wantVpc)
			}
			if got := c.via(tc.svc, tc.region); got != tc.wantVia {
				t.Errorf("via = %q, want %q", got, tc.wantVia)
			}
		})
	}
}

func TestIAMPrincipalKeys(t *testing.T) {
	const pathARN = "arn:aws:iam::111122223333:role/service/ecsTaskExecutionRole"
	tests := []struct {
		name                 string
		facts                func() *account.Facts
		who                  string
		wantAccount, wantARN string
	}{
		{"role by ARN, collected", ixFacts, ixRoleARN, `aws:PrincipalAccount = "111122223333"`, `aws:PrincipalArn = "` + ixRoleARN + `"`},
		{"collected role gives its path", with(ixFacts, func(f *account.Facts) { ixRole(f).Arn = aws.String(pathARN) }), ixRoleARN,
			`aws:PrincipalAccount = "111122223333"`, `aws:PrincipalArn = "` + pathARN + `"`},
		{"role named by ARN in the task definition, not collected", with(ixFacts, func(f *account.Facts) { f.IAM.RoleDetailList = []iamtypes.RoleDetail{} }), ixRoleARN,
			`aws:PrincipalAccount = "111122223333"`, `aws:PrincipalArn = "` + ixRoleARN + `"`},
		{"role named by name, not collected: path unknown", with(ixFacts, func(f *account.Facts) {
			f.IAM.RoleDetailList = nil
			f.ECS.TaskDefinitions[0].ExecutionRoleArn = aws.String("ecsTaskExecutionRole")
		}), ixRoleARN, `aws:PrincipalAccount = "111122223333"`, "aws:PrincipalArn unknown"},
		{"bare account", ixFacts, ixAccount, `aws:PrincipalAccount = "111122223333"`, "aws:PrincipalArn unknown"},
		{"anonymous caller", ixFacts, policy.Anonymous, "aws:PrincipalAccount unknown", "aws:PrincipalArn unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := principalKeys(tc.facts(), tc.who)
			if got := ctx.Describe(policy.KeyPrincipalAccount); got != tc.wantAccount {
				t.Errorf("%s, want %s", got, tc.wantAccount)
			}
			if got := ctx.Describe(policy.KeyPrincipalArn); got != tc.wantARN {
				t.Errorf("%s, want %s", got, tc.wantARN)
			}
			if got := ctx.Describe(policy.KeyPrincipalOrgID); got != "aws:PrincipalOrgID unknown" {
				t.Errorf("%s: the organization is not among the facts", got)
			}
		})
	}
}
