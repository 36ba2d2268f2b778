package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/pullmedic/pullmedic/internal/motoserver"
	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/report"
)

const (
	motoAccount = "123456789012"
	motoRegion  = "eu-west-1"
)

// seedPublicSubnetService builds, in moto, a Fargate service placed in a public
// subnet without a public IP, and returns the stop event of one of its tasks.
func seedPublicSubnetService(t *testing.T) []byte {
	t.Helper()
	ctx := context.Background()
	cfg := motoserver.Config(t, motoRegion)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed %s: %v", what, err)
		}
	}
	e := ec2.NewFromConfig(cfg)
	vpc, err := e.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	must("vpc", err)
	subnet, err := e.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.0.1.0/24")})
	must("subnet", err)
	sg, err := e.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: vpc.Vpc.VpcId, GroupName: aws.String("web"), Description: aws.String("web tasks")})
	must("security group", err)
	igw, err := e.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	must("igw", err)
	_, err = e.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: vpc.Vpc.VpcId})
	must("attach igw", err)
	rt, err := e.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: vpc.Vpc.VpcId})
	must("route table", err)
	_, err = e.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rt.RouteTable.RouteTableId, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: igw.InternetGateway.InternetGatewayId})
	must("route", err)
	_, err = e.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId, SubnetId: subnet.Subnet.SubnetId})
	must("associate", err)

	role, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ecsTaskExecutionRole"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	must("role", err)
	_, err = iam.NewFromConfig(cfg).PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: role.Role.RoleName, PolicyName: aws.String("pull"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"*"}]}`)})
	must("role policy", err)

	r := ecr.NewFromConfig(cfg)
	repo, err := r.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("web")})
	must("repository", err)
	_, err = r.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String("web"), ImageTag: aws.String("1"),
		ImageManifest: aws.String(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1,"digest":"sha256:aa"},"layers":[]}`)})
	must("image", err)
	image := aws.ToString(repo.Repository.RepositoryUri) + ":1"

	c := ecs.NewFromConfig(cfg)
	cluster, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("shop"),
		Tags: []ecstypes.Tag{{Key: aws.String("pullmedic:auto-fix"), Value: aws.String("dry-run")}}})
	must("cluster", err)
	td, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"), NetworkMode: ecstypes.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		ExecutionRoleArn:        role.Role.Arn,
		ContainerDefinitions:    []ecstypes.ContainerDefinition{{Name: aws.String("web"), Image: aws.String(image), Memory: aws.Int32(512), Essential: aws.Bool(true)}},
	})
	must("task definition", err)
	_, err = c.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("shop"), ServiceName: aws.String("web"), TaskDefinition: td.TaskDefinition.TaskDefinitionArn,
		DesiredCount: aws.Int32(1), LaunchType: ecstypes.LaunchTypeFargate,
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: []string{aws.ToString(subnet.Subnet.SubnetId)}, SecurityGroups: []string{aws.ToString(sg.GroupId)},
			AssignPublicIp: ecstypes.AssignPublicIpDisabled,
		}},
	})
	must("service", err)

	taskArn := fmt.Sprintf("arn:aws:ecs:%s:%s:task/shop/0123456789abcdef0123456789abcdef", motoRegion, motoAccount)
	ev, err := json.Marshal(map[string]any{
		"version": "0", "id": "11111111-2222-4333-8444-555555555555", "detail-type": "ECS Task State Change", "source": "aws.ecs",
		"account": motoAccount, "region": motoRegion, "time": "2026-03-09T10:14:52Z", "resources": []string{taskArn},
		"detail": map[string]any{
			"taskArn": taskArn, "clusterArn": aws.ToString(cluster.Cluster.ClusterArn),
			"taskDefinitionArn": aws.ToString(td.TaskDefinition.TaskDefinitionArn),
			"group":             "service:web", "launchType": "FARGATE", "platformVersion": "1.4.0",
			"lastStatus": "STOPPED", "desiredStatus": "STOPPED", "stopCode": "TaskFailedToStart",
			"stoppedReason": fmt.Sprintf(`CannotPullContainerError: failed to do request: Get "https://%s.dkr.ecr.%s.amazonaws.com/v2/web/manifests/1": dial tcp 52.95.150.10:443: i/o timeout`, motoAccount, motoRegion),
			"attachments": []any{map[string]any{"type": "eni", "status": "DELETED", "details": []any{
				map[string]string{"name": "subnetId", "value": aws.ToString(subnet.Subnet.SubnetId)},
				map[string]string{"name": "networkInterfaceId", "value": "eni-0a7b8c9d0e1f23456"},
				map[string]string{"name": "privateIPv4Address", "value": "10.0.1.25"},
			}}},
			"containers": []any{map[string]string{"name": "web", "image": image, "lastStatus": "STOPPED"}},
		},
	})
	must("event", err)
	return ev
}

// useMoto points the default credential chain, as the CLI loads it, at moto.
func useMoto(t *testing.T) {
	ep := motoserver.Reset(t)
	t.Setenv("AWS_ENDPOINT_URL", ep)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// TestLiveDiagnoseAndCollect: a live diagnosis finds the cause, and the snapshot
// collect writes diagnoses offline to the very same report.
func TestLiveDiagnoseAndCollect(t *testing.T) {
	useMoto(t)
	dir := t.TempDir()
	eventPath, snapPath := filepath.Join(dir, "event.json"), filepath.Join(dir, "snapshot.json")
	if err := os.WriteFile(eventPath, seedPublicSubnetService(t), 0o644); err != nil {
		t.Fatal(err)
	}

	live := runCLI(t, "", "diagnose", "--event", eventPath, "--format", "json")
	if live.code != exitFailing {
		t.Fatalf("live diagnose: exit %d, stderr: %s\n%s", live.code, live.stderr, live.stdout)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(live.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Cause == nil || *rep.Cause != "network.public-ip" || rep.AutoFix.Mode != "dry-run" {
		t.Errorf("live cause = %v, autoFix %+v, want network.public-ip in dry-run", rep.Cause, rep.AutoFix)
	}

	// --region reads another region, where the task's subnet does not exist.
	elsewhere := runCLI(t, "", "diagnose", "--event", eventPath, "--format", "json", "--region", "us-west-2")
	var rep2 report.Report
	if err := json.Unmarshal([]byte(elsewhere.stdout), &rep2); err != nil {
		t.Fatalf("diagnose --region: exit %d, %v, stderr: %s", elsewhere.code, err, elsewhere.stderr)
	}
	if fd, _ := rep2.Finding("network.route"); fd.Status != "error" || !strings.Contains(fd.Message, "InvalidSubnetID.NotFound") {
		t.Errorf("diagnose --region us-west-2: network.route = %+v, want an error reading the subnet there", fd)
	}

	if c := runCLI(t, "", "collect", "--event", eventPath, "--out", snapPath); c.code != exitOK || c.stdout != "" {
		t.Fatalf("collect: exit %d, stdout %q, stderr: %s", c.code, c.stdout, c.stderr)
	}
	snap, err := account.ReadSnapshotFile(snapPath)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Schema != account.SchemaV1 || snap.Account != motoAccount || snap.Region != motoRegion {
		t.Errorf("snapshot header: schema %q account %q region %q", snap.Schema, snap.Account, snap.Region)
	}

	offline := runCLI(t, "", "diagnose", "--event", eventPath, "--snapshot", snapPath, "--format", "json")
	if offline.code != exitFailing || offline.stdout != live.stdout {
		t.Errorf("offline diagnosis of the collected snapshot (exit %d) differs from the live one:\n%s\nlive:\n%s", offline.code, offline.stdout, live.stdout)
	}
}

// TestLiveRoleName: --role-name reads the event's account through the role,
// not the caller's: the same event said to come from another account finds
// nothing of the world seeded in the caller's, and the same account through
// the role (moto's AssumeRole acts in the role's account) finds the cause.
func TestLiveRoleName(t *testing.T) {
	useMoto(t)
	dir := t.TempDir()
	ev := seedPublicSubnetService(t)
	other := strings.ReplaceAll(string(ev), motoAccount, "222233334444")
	for name, tc := range map[string]struct {
		event, cause string
		routeStatus  string
	}{
		"own account through the role":     {string(ev), "network.public-ip", "pass"},
		"another account through the role": {other, "image.repository", "error"}, // its repository does not exist there either
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
			if err := os.WriteFile(path, []byte(tc.event), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Setenv("PULLMEDIC_ROLE_NAME", "pullmedic-reader")
			r := runCLI(t, "", "diagnose", "--event", path, "--format", "json")
			var rep report.Report
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
				t.Fatalf("exit %d, %v, stderr: %s", r.code, err, r.stderr)
			}
			if got := aws.ToString(rep.Cause); got != tc.cause {
				t.Errorf("cause %q, want %q", got, tc.cause)
			}
			if fd, _ := rep.Finding("network.route"); string(fd.Status) != tc.routeStatus {
				t.Errorf("network.route = %s (%s), want %s", fd.Status, fd.Message, tc.routeStatus)
			}
		})
	}
	if r := runCLI(t, "", "collect", "--cluster", "shop", "--task", "abc", "--out", filepath.Join(dir, "s.json"), "--role-name", "pullmedic-reader"); r.code != exitBadInput ||
		!strings.Contains(r.stderr, "--role-name needs the task's account") {
		t.Errorf("collect by names with --role-name: exit %d, stderr %q", r.code, r.stderr)
	}
}
