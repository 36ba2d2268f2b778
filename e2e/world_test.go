package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
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
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/pullmedic/pullmedic/internal/motoserver"
	"github.com/pullmedic/pullmedic/internal/statetest"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

// The world: a Fargate service on the endpoint design (private subnet, no
// internet route, ECR interface endpoints and the S3 gateway endpoint) whose
// endpoints' security group does not let the task in on 443. Everything else
// is healthy, so the one cause is network.endpoint-sg and its fix is
// sg-allow-443-from-task. Plus what the functions use: the state table, the
// topic with a subscribed queue, and the Slack webhook secret.
//
// Every world has names of its own, so tests share one moto without resets.

const (
	accountID = "123456789012" // moto's default
	region    = "us-east-1"    // statetest creates the state table there
)

var worldSeq atomic.Int32

type world struct {
	cfg                    aws.Config
	account, region        string // where the world is: a hub test has several
	ec2                    *ec2.Client
	sqs                    *sqs.Client
	name                   string // unique prefix of this world's names
	vpc, subnet, epSubnet  string
	taskSG, epSG, eni, ip  string
	clusterArn, taskDef    string
	image                  string
	table, topic, queueURL string
	slackSecret, slackHook string
	serviceName, execRole  string
}

// seeded unwraps a seeding call's result: seeded(tb, "what")(client.Call(...)).
func seeded[T any](tb testing.TB, what string) func(T, error) T {
	return func(v T, err error) T {
		tb.Helper()
		if err != nil {
			tb.Fatalf("seed %s: %v", what, err)
		}
		return v
	}
}

// newWorld seeds moto. autoFix is the cluster's pullmedic:auto-fix tag, "" for
// none; slackHook is the webhook URL the secret holds.
func newWorld(tb testing.TB, autoFix, slackHook string) *world {
	tb.Helper()
	w := memberWorld(tb, motoserver.Config(tb, region), accountID, autoFix)
	w.slackHook = slackHook
	w.seedPlumbing(tb)
	return w
}

// memberWorld seeds the failing service alone (no plumbing) with cfg, whose
// credentials act in account and whose region is the world's.
func memberWorld(tb testing.TB, cfg aws.Config, account, autoFix string) *world {
	tb.Helper()
	w := &world{
		cfg: cfg, account: account, region: cfg.Region, ec2: ec2.NewFromConfig(cfg), sqs: sqs.NewFromConfig(cfg),
		name: fmt.Sprintf("e2e%d-%d", time.Now().UnixNano()%1e6, worldSeq.Add(1)),
	}
	w.seedNetwork(tb)
	w.seedImageAndRole(tb)
	w.seedECS(tb, autoFix)
	return w
}

func (w *world) seedNetwork(tb testing.TB) {
	ctx, c := context.Background(), w.ec2
	w.vpc = aws.ToString(seeded[*ec2.CreateVpcOutput](tb, "vpc")(c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})).Vpc.VpcId)
	seeded[*ec2.ModifyVpcAttributeOutput](tb, "dns hostnames")(c.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{
		VpcId: &w.vpc, EnableDnsHostnames: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}}))
	dhcp := seeded[*ec2.CreateDhcpOptionsOutput](tb, "dhcp options")(c.CreateDhcpOptions(ctx, &ec2.CreateDhcpOptionsInput{
		DhcpConfigurations: []ec2types.NewDhcpConfiguration{{Key: aws.String("domain-name-servers"), Values: []string{"AmazonProvidedDNS"}}}}))
	seeded[*ec2.AssociateDhcpOptionsOutput](tb, "associate dhcp options")(c.AssociateDhcpOptions(ctx, &ec2.AssociateDhcpOptionsInput{
		DhcpOptionsId: dhcp.DhcpOptions.DhcpOptionsId, VpcId: &w.vpc}))

	subnet := func(cidr string) string {
		return aws.ToString(seeded[*ec2.CreateSubnetOutput](tb, "subnet")(c.CreateSubnet(ctx, &ec2.CreateSubnetInput{
			VpcId: &w.vpc, CidrBlock: aws.String(cidr), AvailabilityZone: aws.String(w.region + "a")})).Subnet.SubnetId)
	}
	w.subnet, w.epSubnet = subnet("10.0.1.0/24"), subnet("10.0.9.0/24")
	rt := seeded[*ec2.CreateRouteTableOutput](tb, "route table")(c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: &w.vpc})).RouteTable.RouteTableId
	seeded[*ec2.AssociateRouteTableOutput](tb, "associate route table")(c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: rt, SubnetId: &w.subnet}))

	group := func(name string) string {
		return aws.ToString(seeded[*ec2.CreateSecurityGroupOutput](tb, "security group")(c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
			VpcId: &w.vpc, GroupName: aws.String(w.name + "-" + name), Description: aws.String(name)})).GroupId)
	}
	w.taskSG, w.epSG = group("task"), group("endpoints")

	seeded[*ec2.CreateVpcEndpointOutput](tb, "s3 endpoint")(c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{
		VpcId: &w.vpc, VpcEndpointType: ec2types.VpcEndpointTypeGateway,
		ServiceName: aws.String("com.amazonaws." + w.region + ".s3"), RouteTableIds: []string{aws.ToString(rt)}}))
	for _, svc := range []string{"ecr.api", "ecr.dkr"} {
		seeded[*ec2.CreateVpcEndpointOutput](tb, "endpoint "+svc)(c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{
			VpcId: &w.vpc, VpcEndpointType: ec2types.VpcEndpointTypeInterface, PrivateDnsEnabled: aws.Bool(true),
			ServiceName: aws.String("com.amazonaws." + w.region + "." + svc),
			SubnetIds:   []string{w.epSubnet}, SecurityGroupIds: []string{w.epSG}}))
	}
	eni := seeded[*ec2.CreateNetworkInterfaceOutput](tb, "eni")(c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{
		SubnetId: &w.subnet, Groups: []string{w.taskSG}})).NetworkInterface
	w.eni, w.ip = aws.ToString(eni.NetworkInterfaceId), aws.ToString(eni.PrivateIpAddress)
}

func (w *world) seedImageAndRole(tb testing.TB) {
	ctx, c := context.Background(), ecr.NewFromConfig(w.cfg)
	repo, tag := w.name+"/web", "1.4.2"
	seeded[*ecr.CreateRepositoryOutput](tb, "repository")(c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: &repo}))
	manifest := `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",` +
		`"config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":7023,` +
		`"digest":"sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7"},"layers":[]}`
	seeded[*ecr.PutImageOutput](tb, "image")(c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: &repo, ImageTag: &tag, ImageManifest: &manifest}))
	w.image = fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s:%s", w.account, w.region, repo, tag)

	ic := iam.NewFromConfig(w.cfg)
	role := w.name + "-execution"
	w.execRole = aws.ToString(seeded[*iam.CreateRoleOutput](tb, "role")(ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: &role,
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
			`"Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})).Role.Arn)
	seeded[*iam.PutRolePolicyOutput](tb, "role policy")(ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &role, PolicyName: aws.String("pull"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken",` +
			`"ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"],"Resource":"*"}]}`)}))
}

func (w *world) seedECS(tb testing.TB, autoFix string) {
	ctx, c := context.Background(), ecs.NewFromConfig(w.cfg)
	in := &ecs.CreateClusterInput{ClusterName: aws.String(w.name)}
	if autoFix != "" {
		in.Tags = []ecstypes.Tag{{Key: aws.String(rules.TagAutoFix), Value: &autoFix}}
	}
	w.clusterArn = aws.ToString(seeded[*ecs.CreateClusterOutput](tb, "cluster")(c.CreateCluster(ctx, in)).Cluster.ClusterArn)
	w.taskDef = aws.ToString(seeded[*ecs.RegisterTaskDefinitionOutput](tb, "task definition")(c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(w.name + "-web"), NetworkMode: ecstypes.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate}, ExecutionRoleArn: &w.execRole,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("web"), Image: &w.image, Memory: aws.Int32(512), Essential: aws.Bool(true)}},
	})).TaskDefinition.TaskDefinitionArn)
	w.serviceName = "web"
	seeded[*ecs.CreateServiceOutput](tb, "service")(c.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String(w.name), ServiceName: &w.serviceName, TaskDefinition: &w.taskDef, DesiredCount: aws.Int32(1),
		LaunchType: ecstypes.LaunchTypeFargate,
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: []string{w.subnet}, SecurityGroups: []string{w.taskSG}, AssignPublicIp: ecstypes.AssignPublicIpDisabled}},
	}))
}

// seedPlumbing creates the function's own resources, as the template does.
func (w *world) seedPlumbing(tb testing.TB) {
	ctx := context.Background()
	table, _ := statetest.New(tb)
	w.table = table.Name

	sc := sns.NewFromConfig(w.cfg)
	w.topic = aws.ToString(seeded[*sns.CreateTopicOutput](tb, "topic")(sc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(w.name + "-findings")})).TopicArn)
	w.queueURL = aws.ToString(seeded[*sqs.CreateQueueOutput](tb, "queue")(w.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(w.name + "-inbox")})).QueueUrl)
	attrs := seeded[*sqs.GetQueueAttributesOutput](tb, "queue arn")(w.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: &w.queueURL, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}}))
	seeded[*sns.SubscribeOutput](tb, "subscription")(sc.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: &w.topic, Protocol: aws.String("sqs"), Endpoint: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)])}))

	w.slackSecret = aws.ToString(seeded[*secretsmanager.CreateSecretOutput](tb, "slack secret")(secretsmanager.NewFromConfig(w.cfg).CreateSecret(ctx,
		&secretsmanager.CreateSecretInput{Name: aws.String(w.name + "/slack"), SecretString: &w.slackHook})).ARN)
}

// stoppedEvent is the EventBridge event of the service's task that could not
// reach ecr.api: the registry-auth form of current Fargate platforms. Its
// task stopped over an hour ago: moto cannot hold ECS tasks (see
// ../shared/notes/moto.md), and remediate refuses a task ECS should still
// describe but does not; an aged-out one is judged by its service alone.
func (w *world) stoppedEvent(tb testing.TB, eventID string) []byte {
	tb.Helper()
	taskArn := fmt.Sprintf("arn:aws:ecs:%s:%s:task/%s/4c2b1a0f9e8d7c6b5a4f3e2d1c0b9a87", w.region, w.account, w.name)
	ev := map[string]any{
		"version": "0", "id": eventID, "detail-type": "ECS Task State Change", "source": "aws.ecs",
		"account": w.account, "time": time.Now().Add(-70 * time.Minute).UTC().Format(time.RFC3339), "region": w.region, "resources": []string{taskArn},
		"detail": map[string]any{
			"attachments": []any{map[string]any{"id": "77f0c1de", "type": "eni", "status": "DELETED", "details": []any{
				map[string]any{"name": "subnetId", "value": w.subnet},
				map[string]any{"name": "networkInterfaceId", "value": w.eni},
				map[string]any{"name": "privateIPv4Address", "value": w.ip},
			}}},
			"clusterArn": w.clusterArn,
			"containers": []any{map[string]any{"name": "web", "image": w.image, "lastStatus": "STOPPED", "taskArn": taskArn}},
			"launchType": "FARGATE", "platformVersion": "1.4.0", "cpu": "256", "memory": "512",
			"desiredStatus": "STOPPED", "lastStatus": "STOPPED", "group": "service:" + w.serviceName,
			"startedBy": "ecs-svc/8830144125590311762", "stopCode": "TaskFailedToStart",
			"stoppedReason": "ResourceInitializationError: unable to pull secrets or registry auth: The task cannot pull registry auth " +
				"from Amazon ECR: There is a connection issue between the task and Amazon ECR. Check your task network configuration. " +
				`operation error ECR: GetAuthorizationToken, exceeded maximum number of attempts, 3, https response error StatusCode: 0, ` +
				`RequestID: , request send failed, Post "https://api.ecr.` + w.region + `.amazonaws.com/": dial tcp 10.0.9.10:443: i/o timeout`,
			"taskArn": taskArn, "taskDefinitionArn": w.taskDef,
		},
	}
	data, err := json.Marshal(ev)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// ingressFromTask counts the endpoint group's rules that let the task's group in on 443.
func (w *world) ingressFromTask(tb testing.TB) int {
	tb.Helper()
	out := seeded[*ec2.DescribeSecurityGroupsOutput](tb, "describe endpoint group")(w.ec2.DescribeSecurityGroups(context.Background(),
		&ec2.DescribeSecurityGroupsInput{GroupIds: []string{w.epSG}}))
	n := 0
	for _, g := range out.SecurityGroups {
		for _, p := range g.IpPermissions {
			for _, pair := range p.UserIdGroupPairs {
				if aws.ToString(pair.GroupId) == w.taskSG && aws.ToInt32(p.FromPort) <= 443 && aws.ToInt32(p.ToPort) >= 443 {
					n++
				}
			}
		}
	}
	return n
}

// lambdaEnv is what the template gives a function, with the SDK's calls sent
// to endpoint, plus extra.
func (w *world) lambdaEnv(endpoint string, extra map[string]string) map[string]string {
	env := map[string]string{
		"AWS_REGION": region, "AWS_DEFAULT_REGION": region,
		"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
		"AWS_ENDPOINT_URL": endpoint, "AWS_EC2_METADATA_DISABLED": "true",
		"STATE_TABLE": w.table, "TOPIC_ARN": w.topic, "LOG_LEVEL": "debug",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}
