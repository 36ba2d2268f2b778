package rules

import (
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
)

// dhcpServers gives the VPC a DHCP options set with these name servers.
func dhcpServers(servers ...string) func(*account.Facts) {
	return func(f *account.Facts) {
		f.EC2.Vpcs[0].DhcpOptionsId = aws.String("dopt-1")
		cfg := ec2types.DhcpConfiguration{Key: aws.String("domain-name-servers")}
		for _, s := range servers {
			cfg.Values = append(cfg.Values, ec2types.AttributeValue{Value: aws.String(s)})
		}
		f.EC2.DhcpOptions = []ec2types.DhcpOptions{{DhcpOptionsId: aws.String("dopt-1"), DhcpConfigurations: []ec2types.DhcpConfiguration{
			{Key: aws.String("domain-name"), Values: []ec2types.AttributeValue{{Value: aws.String("corp.example")}}}, cfg}}}
	}
}

func TestDNSDHCPOptions(t *testing.T) {
	runRuleCases(t, DNSDHCPOptions, []ruleCase{
		{name: "default set passes", facts: natVPC, status: Pass, msg: "default DHCP options"},
		{name: "AmazonProvidedDNS passes", facts: with(natVPC, dhcpServers("10.9.9.9", "amazonprovideddns")), status: Pass, msg: "(amazonprovideddns)"},
		{name: "VPC+2 resolver passes", facts: with(natVPC, dhcpServers("10.0.0.2")), status: Pass, msg: "(10.0.0.2)"},
		{name: "secondary CIDR resolver passes", facts: with(natVPC, func(f *account.Facts) {
			dhcpServers("100.64.0.2")(f)
			f.EC2.Vpcs[0].CidrBlockAssociationSet = []ec2types.VpcCidrBlockAssociation{{CidrBlock: aws.String("100.64.0.0/16")}}
		}), status: Pass},
		{name: "link-local resolver passes", facts: with(natVPC, dhcpServers("169.254.169.253")), status: Pass},
		{name: "custom resolvers warn", facts: with(natVPC, dhcpServers("10.9.9.9", "10.9.9.10")), status: Warn,
			msg: "custom resolvers 10.9.9.9, 10.9.9.10, which must forward AWS names", check: func(t *testing.T, fd Finding) {
				if !reflect.DeepEqual(fd.Evidence["domainNameServers"], []string{"10.9.9.9", "10.9.9.10"}) {
					t.Errorf("evidence = %v", fd.Evidence)
				}
				adviceHasText(t, fd, "aws ec2 associate-dhcp-options --dhcp-options-id default --vpc-id vpc-1")
			}},
		{name: "custom resolvers on a dns failure name the likely cause", facts: with(natVPC, func(f *account.Facts) {
			dhcpServers("10.9.9.9")(f)
			f.Task.Class = event.ClassDNS
		}), status: Warn, msg: "the likely cause"},
		{name: "no name servers fails", facts: with(natVPC, func(f *account.Facts) {
			dhcpServers()(f)
			f.EC2.DhcpOptions[0].DhcpConfigurations = f.EC2.DhcpOptions[0].DhcpConfigurations[:1]
		}), status: Fail, msg: "names no domain-name-servers"},
		{name: "set not found is an error", facts: with(natVPC, func(f *account.Facts) {
			dhcpServers("10.9.9.9")(f)
			f.EC2.DhcpOptions = nil
		}), status: Error, msg: "DHCP options set dopt-1 not found"},
		{name: "VPC not found is an error", facts: with(natVPC, func(f *account.Facts) { f.EC2.Vpcs = nil }), status: Error, msg: "VPC vpc-1 not found"},
		{name: "subnet not found is an error", facts: with(natVPC, func(f *account.Facts) { f.EC2.Subnets = nil }), status: Error, msg: "subnet subnet-app not found"},
		{name: "read failed is an error", facts: failedRead(natVPC, account.SrcDHCPOptions), status: Error, msg: "AccessDenied"},
	})
}
