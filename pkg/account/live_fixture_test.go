package account_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/pullmedic/pullmedic/internal/faultproxy"
	"github.com/pullmedic/pullmedic/internal/motoserver"
	"github.com/pullmedic/pullmedic/pkg/event"
)

// The fixture: a Fargate service in the private subnet of a VPC with a NAT
// gateway and ECR/S3 endpoints. The "full" task definition pulls from another
// region and reads two secrets with a role that has an inline policy, a managed
// policy and a boundary; the "typical" one is the common case: same-region
// image, execution role with one managed policy.
const (
	accountID   = "123456789012" // moto's default
	taskRegion  = "eu-west-1"
	imageRegion = "us-east-1"
	otherRegion = "us-west-2" // the config's region: the event's must win
	clusterName = "pm-cluster"
	serviceName = "pm-service"
	autoFixTag  = "pullmedic:auto-fix"
	paramName   = "/app/token"
	logParam    = "/app/splunk" // named by ARN only
)

type fixture struct {
	cfg                                      aws.Config
	vpc, private, public, mainRT, privateRT  string
	publicRT, igw, nat, dhcp, taskSG, endSG  string
	nacl, eni, eniIP                         string
	clusterArn, fullTD, typicalTD            string
	fullRole, typicalRole                    string
	pullPolicy, boundaryPolicy, inlinePolicy string
	fullImage, typicalImage, secretArn       string
	endpoints                                []string
}

// task is the stopped task of the fixture's service, as the event reports it.
func (fx *fixture) task(td, image string) *event.Task {
	return &event.Task{
		Account: accountID, Region: taskRegion,
		TaskArn:           fmt.Sprintf("arn:aws:ecs:%s:%s:task/%s/0f1e2d3c4b5a69788", taskRegion, accountID, clusterName),
		ClusterArn:        fx.clusterArn,
		TaskDefinitionArn: td,
		Group:             "service:" + serviceName, Service: serviceName,
		LaunchType: "FARGATE", PlatformVersion: "1.4.0", LastStatus: "STOPPED",
		SubnetID: fx.private, ENIID: fx.eni, PrivateIP: fx.eniIP,
		Containers: []event.Container{{Name: "app", Image: image}},
	}
}

func (fx *fixture) full() *event.Task    { return fx.task(fx.fullTD, fx.fullImage) }
func (fx *fixture) typical() *event.Task { return fx.task(fx.typicalTD, fx.typicalImage) }

// seed resets moto and builds the fixture through the SDK.
func seed(tb testing.TB) *fixture {
	tb.Helper()
	motoserver.Reset(tb)
	ctx := context.Background()
	fx := &fixture{cfg: motoserver.Config(tb, otherRegion)}
	in := func(region string) aws.Config { c := fx.cfg.Copy(); c.Region = region; return c }
	must := func(what string, err error) {
		tb.Helper()
		if err != nil {
			tb.Fatalf("seed %s: %v", what, err)
		}
	}
	fx.seedNetwork(ctx, ec2.NewFromConfig(in(taskRegion)), must)
	fx.seedIAM(ctx, iam.NewFromConfig(in(taskRegion)), must)
	fx.fullImage = seedImage(ctx, ecr.NewFromConfig(in(imageRegion)), imageRegion, "app", "1.0", true, must)
	fx.typicalImage = seedImage(ctx, ecr.NewFromConfig(in(taskRegion)), taskRegion, "web", "2.0", false, must)
	fx.seedSecrets(ctx, secretsmanager.NewFromConfig(in(taskRegion)), ssm.NewFromConfig(in(taskRegion)), must)
	fx.seedECS(ctx, ecs.NewFromConfig(in(taskRegion)), must)
	return fx
}

func (fx *fixture) seedNetwork(ctx context.Context, c *ec2.Client, must func(string, error)) {
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	must("vpc", err)
	fx.vpc = aws.ToString(vpc.Vpc.VpcId)
	_, err = c.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: &fx.vpc, EnableDnsHostnames: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}})
	must("dns hostnames", err)
	subnet := func(cidr string) string {
		s, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &fx.vpc, CidrBlock: aws.String(cidr), AvailabilityZone: aws.String(taskRegion + "a")})
		must("subnet "+cidr, err)
		return aws.ToString(s.Subnet.SubnetId)
	}
	fx.private, fx.public = subnet("10.0.1.0/24"), subnet("10.0.2.0/24")

	igw, err := c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	must("igw", err)
	fx.igw = aws.ToString(igw.InternetGateway.InternetGatewayId)
	_, err = c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: &fx.igw, VpcId: &fx.vpc})
	must("attach igw", err)
	eip, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc})
	must("eip", err)
	nat, err := c.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: &fx.public, AllocationId: eip.AllocationId})
	must("nat", err)
	fx.nat = aws.ToString(nat.NatGateway.NatGatewayId)

	rts, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{fx.vpc}}}})
	must("main route table", err)
	fx.mainRT = aws.ToString(rts.RouteTables[0].RouteTableId)
	routeTable := func(subnet string, route ec2.CreateRouteInput) string {
		rt, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: &fx.vpc})
		must("route table", err)
		route.RouteTableId, route.DestinationCidrBlock = rt.RouteTable.RouteTableId, aws.String("0.0.0.0/0")
		_, err = c.CreateRoute(ctx, &route)
		must("route", err)
		_, err = c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId, SubnetId: &subnet})
		must("associate route table", err)
		return aws.ToString(rt.RouteTable.RouteTableId)
	}
	fx.publicRT = routeTable(fx.public, ec2.CreateRouteInput{GatewayId: &fx.igw})
	fx.privateRT = routeTable(fx.private, ec2.CreateRouteInput{NatGatewayId: &fx.nat})

	group := func(name string) string {
		g, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: &fx.vpc, GroupName: aws.String(name), Description: aws.String(name)})
		must("security group "+name, err)
		return aws.ToString(g.GroupId)
	}
	fx.taskSG, fx.endSG = group("task"), group("endpoints")
	_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: &fx.endSG, IpPermissions: []ec2types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
		UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: &fx.taskSG}},
	}}})
	must("endpoint ingress", err)

	for _, svc := range []string{"ecr.api", "ecr.dkr"} {
		ep, err := c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{
			VpcId: &fx.vpc, VpcEndpointType: ec2types.VpcEndpointTypeInterface, PrivateDnsEnabled: aws.Bool(true),
			ServiceName: aws.String("com.amazonaws." + taskRegion + "." + svc),
			SubnetIds:   []string{fx.private}, SecurityGroupIds: []string{fx.endSG},
		})
		must("endpoint "+svc, err)
		fx.endpoints = append(fx.endpoints, aws.ToString(ep.VpcEndpoint.VpcEndpointId))
	}
	s3, err := c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{
		VpcId: &fx.vpc, VpcEndpointType: ec2types.VpcEndpointTypeGateway,
		ServiceName: aws.String("com.amazonaws." + taskRegion + ".s3"), RouteTableIds: []string{fx.privateRT},
	})
	must("s3 endpoint", err)
	fx.endpoints = append(fx.endpoints, aws.ToString(s3.VpcEndpoint.VpcEndpointId))

	acl, err := c.CreateNetworkAcl(ctx, &ec2.CreateNetworkAclInput{VpcId: &fx.vpc})
	must("network acl", err)
	fx.nacl = aws.ToString(acl.NetworkAcl.NetworkAclId)
	for _, egress := range []bool{true, false} {
		_, err = c.CreateNetworkAclEntry(ctx, &ec2.CreateNetworkAclEntryInput{
			NetworkAclId: &fx.nacl, RuleNumber: aws.Int32(100), Egress: aws.Bool(egress), Protocol: aws.String("-1"),
			CidrBlock: aws.String("0.0.0.0/0"), RuleAction: ec2types.RuleActionAllow,
		})
		must("network acl entry", err)
	}
	acls, err := c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []ec2types.Filter{{Name: aws.String("association.subnet-id"), Values: []string{fx.private}}}})
	must("default acl", err)
	for _, a := range acls.NetworkAcls[0].Associations {
		if aws.ToString(a.SubnetId) == fx.private {
			_, err = c.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: a.NetworkAclAssociationId, NetworkAclId: &fx.nacl})
			must("acl association", err)
		}
	}

	dhcpSet := func(servers string) string {
		d, err := c.CreateDhcpOptions(ctx, &ec2.CreateDhcpOptionsInput{DhcpConfigurations: []ec2types.NewDhcpConfiguration{{Key: aws.String("domain-name-servers"), Values: []string{servers}}}})
		must("dhcp options", err)
		return aws.ToString(d.DhcpOptions.DhcpOptionsId)
	}
	dhcpSet("10.9.9.9") // another VPC's set: must not be collected
	fx.dhcp = dhcpSet("AmazonProvidedDNS")
	_, err = c.AssociateDhcpOptions(ctx, &ec2.AssociateDhcpOptionsInput{DhcpOptionsId: &fx.dhcp, VpcId: &fx.vpc})
	must("associate dhcp options", err)

	eni, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: &fx.private, Groups: []string{fx.taskSG}})
	must("eni", err)
	fx.eni, fx.eniIP = aws.ToString(eni.NetworkInterface.NetworkInterfaceId), aws.ToString(eni.NetworkInterface.PrivateIpAddress)
}

const (
	trustECSTasks = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	pullDocument  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"*"}]}`
	allowAll      = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	readSecrets   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","ssm:GetParameters"],"Resource":"*"}]}`
)

func (fx *fixture) seedIAM(ctx context.Context, c *iam.Client, must func(string, error)) {
	policy := func(name, doc string) string {
		p, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(doc)})
		must("policy "+name, err)
		return aws.ToString(p.Policy.Arn)
	}
	fx.pullPolicy, fx.boundaryPolicy = policy("ecr-pull", pullDocument), policy("boundary", allowAll)
	role := func(name string, boundary *string) string {
		r, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trustECSTasks), PermissionsBoundary: boundary})
		must("role "+name, err)
		_, err = c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(name), PolicyArn: &fx.pullPolicy})
		must("attach "+name, err)
		return aws.ToString(r.Role.Arn)
	}
	fx.fullRole, fx.typicalRole = role("full-execution", &fx.boundaryPolicy), role("typical-execution", nil)
	fx.inlinePolicy = "read-secrets"
	_, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("full-execution"), PolicyName: &fx.inlinePolicy, PolicyDocument: aws.String(readSecrets)})
	must("inline policy", err)
}

// seedImage creates a repository holding one tagged image and returns its URI.
func seedImage(ctx context.Context, c *ecr.Client, region, repo, tag string, withPolicy bool, must func(string, error)) string {
	_, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: &repo})
	must("repository "+repo, err)
	manifest := `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":7023,"digest":"sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7"},"layers":[]}`
	_, err = c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: &repo, ImageTag: &tag, ImageManifest: &manifest})
	must("image "+repo, err)
	if withPolicy {
		_, err = c.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: &repo, PolicyText: aws.String(
			`{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + accountID + `:root"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}`)})
		must("repository policy", err)
	}
	return fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s:%s", accountID, region, repo, tag)
}

func (fx *fixture) seedSecrets(ctx context.Context, sm *secretsmanager.Client, ps *ssm.Client, must func(string, error)) {
	s, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("db-password"), SecretString: aws.String("hunter2")})
	must("secret", err)
	fx.secretArn = aws.ToString(s.ARN)
	for _, name := range []string{paramName, logParam} {
		_, err = ps.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String("t0k3n"), Type: ssmtypes.ParameterTypeSecureString})
		must("parameter "+name, err)
	}
}

func (fx *fixture) seedECS(ctx context.Context, c *ecs.Client, must func(string, error)) {
	cl, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(clusterName), Tags: []ecstypes.Tag{{Key: aws.String(autoFixTag), Value: aws.String("enabled")}}})
	must("cluster", err)
	fx.clusterArn = aws.ToString(cl.Cluster.ClusterArn)
	register := func(family, role string, app ecstypes.ContainerDefinition) string {
		app.Name, app.Memory, app.Essential = aws.String("app"), aws.Int32(512), aws.Bool(true)
		td, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String(family), NetworkMode: ecstypes.NetworkModeAwsvpc,
			RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
			Cpu:                     aws.String("256"), Memory: aws.String("512"), ExecutionRoleArn: aws.String(role),
			ContainerDefinitions: []ecstypes.ContainerDefinition{app},
		})
		must("task definition "+family, err)
		return aws.ToString(td.TaskDefinition.TaskDefinitionArn)
	}
	// The secret is named with a JSON key, one parameter by name and one by
	// ARN, as a log driver secret.
	fx.fullTD = register("full", fx.fullRole, ecstypes.ContainerDefinition{
		Image: aws.String(fx.fullImage),
		Secrets: []ecstypes.Secret{
			{Name: aws.String("DB_PASSWORD"), ValueFrom: aws.String(fx.secretArn + ":password::")},
			{Name: aws.String("TOKEN"), ValueFrom: aws.String(paramName)},
		},
		LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverSplunk, SecretOptions: []ecstypes.Secret{
			{Name: aws.String("splunk-token"), ValueFrom: aws.String(fmt.Sprintf("arn:aws:ssm:%s:%s:parameter%s", taskRegion, accountID, logParam))},
		}},
	})
	fx.typicalTD = register("typical", fx.typicalRole, ecstypes.ContainerDefinition{Image: aws.String(fx.typicalImage)})
	_, err = c.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: &fx.clusterArn, ServiceName: aws.String(serviceName), TaskDefinition: &fx.fullTD,
		DesiredCount: aws.Int32(1), LaunchType: ecstypes.LaunchTypeFargate,
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: []string{fx.private}, SecurityGroups: []string{fx.taskSG}, AssignPublicIp: ecstypes.AssignPublicIpDisabled,
		}},
	})
	must("service", err)
}

// latencyProxy puts a fixed delay in front of every request to moto, so the
// sequential rounds of a Collect show up in its wall time and in a CallLog.
func latencyProxy(tb testing.TB, cfg aws.Config, delay time.Duration) aws.Config {
	tb.Helper()
	p := faultproxy.New(tb, aws.ToString(cfg.BaseEndpoint))
	p.Set(faultproxy.Rule{Fault: faultproxy.Latency, Delay: delay})
	cfg.BaseEndpoint = aws.String(p.URL)
	return cfg
}
