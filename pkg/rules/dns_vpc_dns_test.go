package rules

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/pullmedic/pullmedic/pkg/account"
)

func dnsAttrs(support, hostnames *bool) func(*account.Facts) {
	return func(f *account.Facts) {
		f.EC2.VpcAttributes = map[string]account.VPCAttributes{"vpc-1": {EnableDnsSupport: support, EnableDnsHostnames: hostnames}}
	}
}

func TestDNSVPCDNS(t *testing.T) {
	runRuleCases(t, DNSVPCDNS, []ruleCase{
		{name: "nat path with defaults passes", facts: natVPC, status: Pass, msg: "relies on no endpoint private DNS", check: func(t *testing.T, fd Finding) {
			if fd.Evidence["enableDnsSupport"] != true || fd.Evidence["enableDnsHostnames"] != false || fd.Evidence["attributesRecorded"] != false {
				t.Errorf("evidence = %v", fd.Evidence)
			}
		}},
		{name: "endpoint design with both on passes", facts: endpointVPC, status: Pass, msg: "private DNS names"},
		{name: "DNS support off fails", facts: with(natVPC, dnsAttrs(aws.Bool(false), nil)), status: Fail, msg: "enableDnsSupport off",
			check: adviceHas(`aws ec2 modify-vpc-attribute --vpc-id vpc-1 --enable-dns-support '{"Value":true}'`)},
		{name: "hostnames off on endpoint design fails", facts: with(endpointVPC, dnsAttrs(nil, aws.Bool(false))), status: Fail, msg: "enableDnsHostnames off",
			check: adviceHas(`--enable-dns-hostnames '{"Value":true}'`)},
		{name: "hostnames unrecorded on a non-default VPC defaults to off", facts: with(endpointVPC, func(f *account.Facts) { f.EC2.VpcAttributes = nil }),
			status: Fail, msg: "enableDnsHostnames off"},
		{name: "default VPC defaults hostnames on", facts: with(endpointVPC, func(f *account.Facts) {
			f.EC2.VpcAttributes = nil
			f.EC2.Vpcs[0].IsDefault = aws.Bool(true)
		}), status: Pass},
		{name: "hostnames off with internet path passes", facts: with(natVPC, dnsAttrs(aws.Bool(true), aws.Bool(false))), status: Pass},
		{name: "attribute read failed is an error", facts: failedRead(natVPC, account.SrcVPCAttributes), status: Error, msg: "ec2:vpc-attributes: AccessDenied"},
		{name: "subnet not found is an error", facts: with(natVPC, func(f *account.Facts) { f.EC2.Subnets = nil }), status: Error, msg: "subnet subnet-app not found"},
	})
}
