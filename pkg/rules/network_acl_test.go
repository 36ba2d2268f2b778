package rules

import (
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/pullmedic/pullmedic/pkg/account"
)

const (
	allow = ec2types.RuleActionAllow
	deny  = ec2types.RuleActionDeny
)

// subnetACL associates a new explicit ACL with the subnet.
func subnetACL(subnet string, entries ...ec2types.NetworkAclEntry) func(*account.Facts) {
	return func(f *account.Facts) {
		f.EC2.NetworkAcls = append(f.EC2.NetworkAcls, ec2types.NetworkAcl{NetworkAclId: aws.String("acl-" + subnet), VpcId: aws.String("vpc-1"),
			Associations: []ec2types.NetworkAclAssociation{{SubnetId: aws.String(subnet)}},
			Entries:      append(entries, fxACLEntry(32767, true, "-1", 0, 0, "0.0.0.0/0", deny), fxACLEntry(32767, false, "-1", 0, 0, "0.0.0.0/0", deny))})
	}
}

// strictHTTPS is a tight but working ACL: HTTPS out, replies in.
var strictHTTPS = []ec2types.NetworkAclEntry{
	fxACLEntry(100, true, "6", 443, 443, "0.0.0.0/0", allow),
	fxACLEntry(100, false, "6", 1024, 65535, "0.0.0.0/0", allow),
}

func TestNetworkNACL(t *testing.T) {
	runRuleCases(t, NetworkNACL, []ruleCase{
		{name: "default ACL on nat path passes", facts: natVPC, status: Pass, msg: "(2 directions checked)", check: func(t *testing.T, fd Finding) {
			want := []string{"acl-default (default) of subnet-app egress tcp 443 → 0.0.0.0/0: rule 100 allows",
				"acl-default (default) of subnet-app ingress tcp 1024-65535 ← 0.0.0.0/0: rule 100 allows"}
			if !reflect.DeepEqual(fd.Evidence["entries"], want) {
				t.Errorf("entries = %q", fd.Evidence["entries"])
			}
		}},
		{name: "endpoint design checks both ends and S3", facts: endpointVPC, status: Pass, msg: "(8 directions checked)", check: func(t *testing.T, fd Finding) {
			got := fd.Evidence["entries"].([]string)
			if got[2] != "acl-default (default) of subnet-ep ingress tcp 443 ← 10.0.1.23/32: rule 100 allows" {
				t.Errorf("endpoint side = %q", got[2])
			}
		}},
		{name: "tight explicit ACL passes", facts: with(natVPC, subnetACL("subnet-app", strictHTTPS...)), status: Pass},
		{name: "entries are sorted by rule number", facts: with(natVPC, subnetACL("subnet-app",
			fxACLEntry(200, true, "-1", 0, 0, "0.0.0.0/0", deny), fxACLEntry(50, true, "6", 443, 443, "0.0.0.0/0", allow),
			fxACLEntry(100, false, "6", 1024, 65535, "0.0.0.0/0", allow))), status: Pass},
		{name: "no ephemeral return fails on the implicit deny", facts: with(natVPC, subnetACL("subnet-app", strictHTTPS[0])), status: Fail,
			msg:   "Network ACL acl-subnet-app of subnet-app blocks ingress TCP 1024-65535 from 0.0.0.0/0 (no entry allows it, so the implicit deny * applies).",
			check: adviceHas("aws ec2 create-network-acl-entry --network-acl-id acl-subnet-app --ingress --rule-number 32766 --protocol tcp --port-range From=1024,To=65535 --cidr-block 0.0.0.0/0 --rule-action allow")},
		{name: "deny on part of the ephemeral range fails", facts: with(natVPC, subnetACL("subnet-app",
			append([]ec2types.NetworkAclEntry{fxACLEntry(90, false, "6", 1024, 2000, "0.0.0.0/0", deny)}, strictHTTPS...)...)),
			status: Fail, msg: "(rule 90 denies it)", check: adviceHas("--ingress --rule-number 89")},
		{name: "partial allow falls through to a later allow", facts: with(natVPC, subnetACL("subnet-app",
			fxACLEntry(50, false, "6", 1024, 4000, "0.0.0.0/0", allow), strictHTTPS[0], strictHTTPS[1])), status: Pass},
		{name: "udp allow does not count", facts: with(natVPC, subnetACL("subnet-app",
			fxACLEntry(100, true, "17", 0, 65535, "0.0.0.0/0", allow), strictHTTPS[1])), status: Fail, msg: "egress TCP 443 to 0.0.0.0/0"},
		{name: "deny of one address warns", facts: with(natVPC, subnetACL("subnet-app",
			append([]ec2types.NetworkAclEntry{fxACLEntry(50, true, "-1", 0, 0, "198.51.100.7/32", deny)}, strictHTTPS...)...)),
			status: Warn, msg: "denies part of egress TCP 443 to 0.0.0.0/0 (rule 50)"},
		{name: "endpoint subnet ACL without inbound 443 fails", facts: with(endpointVPC, subnetACL("subnet-ep",
			fxACLEntry(100, true, "-1", 0, 0, "0.0.0.0/0", allow))), status: Fail,
			msg: "acl-subnet-ep of subnet-ep blocks ingress TCP 443 from 10.0.1.23/32"},
		{name: "endpoint in the task subnet meets no ACL", facts: with(endpointVPC, func(f *account.Facts) {
			for _, id := range []string{"vpce-ecr-dkr", "vpce-ecr-api", "vpce-logs"} {
				fxEndpoint(f, id).SubnetIds = []string{"subnet-app"}
			}
			subnetACL("subnet-ep")(f)
		}), status: Pass, msg: "(4 directions checked)"},
		{name: "S3 prefix list CIDRs are checked", facts: with(endpointVPC, subnetACL("subnet-app",
			fxACLEntry(100, true, "-1", 0, 0, "10.0.0.0/16", allow), fxACLEntry(100, false, "-1", 0, 0, "10.0.0.0/16", allow))),
			status: Fail, msg: "egress TCP 443 to 52.218.0.0/17"},
		{name: "ACL not found is an error", facts: with(natVPC, func(f *account.Facts) { f.EC2.NetworkAcls = nil }), status: Error, msg: "network ACL of subnet subnet-app not found"},
		{name: "ACL read failed is an error", facts: failedRead(natVPC, account.SrcNetworkACLs), status: Error, msg: "AccessDenied"},
		{name: "subnet not found is an error", facts: with(natVPC, func(f *account.Facts) { f.EC2.Subnets = nil }), status: Error, msg: "not found"},
	})
}
