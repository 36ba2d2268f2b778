package account

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/pullmedic/pullmedic/pkg/event"
)

const cliSnapshot = "testdata/snapshot-cli.json"

// TestReadSnapshotFileCLI loads a snapshot pasted together from AWS CLI output
// and checks that the lookups the rules use find what it holds.
func TestReadSnapshotFileCLI(t *testing.T) {
	s, err := ReadSnapshotFile(cliSnapshot)
	if err != nil {
		t.Fatal(err)
	}
	f := &Facts{Task: &event.Task{
		ClusterArn:        "arn:aws:ecs:eu-west-1:210987654321:cluster/payments",
		TaskDefinitionArn: "arn:aws:ecs:eu-west-1:210987654321:task-definition/payments-api:41",
		Service:           "payments-api",
		SubnetID:          "subnet-0c9d8e7f6a5b4c3d2",
	}, Snapshot: *s}

	if tag, _ := f.ClusterTag("pullmedic:auto-fix"); tag != "enabled" {
		t.Errorf("cluster tag = %q", tag)
	}
	if cfg, ok := f.AwsVpcConfiguration(); !ok || cfg.SecurityGroups[0] != "sg-0aa11bb22cc33dd44" || cfg.AssignPublicIp != "DISABLED" {
		t.Errorf("awsvpc configuration = %+v, %v", cfg, ok)
	}
	td := f.TaskDefinition()
	if td == nil || aws.ToString(td.Cpu) != "512" || td.ContainerDefinitions[0].LogConfiguration.Options["awslogs-group"] != "/ecs/payments-api" {
		t.Fatalf("task definition = %+v", td)
	}
	if want := time.Date(2026, 10, 2, 14, 10, 0, 512e6, time.UTC); !td.RegisteredAt.Equal(want) {
		t.Errorf("registeredAt = %v, want %v", td.RegisteredAt, want)
	}
	if rt, main := f.RouteTableFor(f.Task.SubnetID); rt == nil || main || aws.ToString(rt.Routes[1].NatGatewayId) != "nat-0fedcba9876543210" {
		t.Errorf("route table = %+v (main %v)", rt, main)
	}
	if n := f.NATGateway("nat-0fedcba9876543210"); n == nil || n.State != "failed" {
		t.Errorf("NAT gateway = %+v", n)
	}
	if !f.DNSHostnames("vpc-0f0e0d0c0b0a09080") || aws.ToBool(f.TaskSubnet().MapPublicIpOnLaunch) {
		t.Error("VPC attributes or subnet flags lost")
	}
	role := f.Role("arn:aws:iam::210987654321:role/payments-exec")
	if role == nil {
		t.Fatal("role not found")
	}
	var trust struct {
		Statement []struct{ Principal struct{ Service string } }
	}
	if err := json.Unmarshal([]byte(aws.ToString(role.AssumeRolePolicyDocument)), &trust); err != nil || trust.Statement[0].Principal.Service != "ecs-tasks.amazonaws.com" {
		t.Errorf("trust policy %q: %v", aws.ToString(role.AssumeRolePolicyDocument), err)
	}
	p := f.ManagedPolicy("arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")
	if doc, ok := DefaultPolicyDocument(p); !ok || !strings.Contains(doc, `"ecr:BatchGetImage"`) {
		t.Errorf("managed policy document = %q, %v", doc, ok)
	}
	repo := RepoKey{Account: "210987654321", Region: "eu-west-1", Name: "payments-api"}
	if r := f.Repository(repo); r == nil || r.ImageTagMutability != "IMMUTABLE" {
		t.Errorf("repository = %+v", r)
	}
	if imgs := f.Images(repo); len(imgs) != 1 || imgs[0].ImageTags[0] != "2026.10.02" || aws.ToInt64(imgs[0].ImageSizeInBytes) != 48211044 {
		t.Errorf("images = %+v", imgs)
	}
	if len(s.Secrets.SecretsManager) != 1 || s.Secrets.SSMParameters[0].Version != 3 {
		t.Errorf("secrets = %+v", s.Secrets)
	}
}

// doc wraps a snapshot body in the schema line.
func doc(body string) []byte {
	if body == "" {
		return []byte(`{"schema":"pullmedic.snapshot/v1"}`)
	}
	return []byte(`{"schema":"pullmedic.snapshot/v1",` + body + `}`)
}

func TestLoadSnapshotNormalizes(t *testing.T) {
	const policy = `{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"}}],"Version":"2012-10-17"}`
	const encoded = `%7B%22Version%22%3A%222012-10-17%22%7D`
	repoTime := func(s *Snapshot) any { return *s.ECR.Repositories[0].CreatedAt }
	roleDoc := func(s *Snapshot) any { return aws.ToString(s.IAM.RoleDetailList[0].AssumeRolePolicyDocument) }
	tests := []struct {
		name string
		body string
		get  func(*Snapshot) any
		want any
	}{
		{"epoch seconds", `"ecr":{"repositories":[{"createdAt":1700000000}]}`, repoTime, time.Unix(1700000000, 0).UTC()},
		{"fractional epoch", `"ecr":{"repositories":[{"createdAt":1700000000.123456}]}`, repoTime, time.Unix(1700000000, 123456000).UTC()},
		{"epoch in a string", `"ecr":{"repositories":[{"createdAt":"1700000000"}]}`, repoTime, time.Unix(1700000000, 0).UTC()},
		{"ISO with offset", `"ecr":{"repositories":[{"createdAt":"2023-11-15T00:13:20.5+01:00"}]}`, repoTime, time.Unix(1700003600, 5e8).UTC()},
		{"ISO without zone is UTC", `"ecr":{"repositories":[{"createdAt":"2023-11-14T22:13:20"}]}`, repoTime, time.Unix(1700000000, 0).UTC()},
		{"ISO +0000", `"ecr":{"repositories":[{"createdAt":"2023-11-14T22:13:20+0000"}]}`, repoTime, time.Unix(1700000000, 0).UTC()},
		{"policy as object", `"iam":{"RoleDetailList":[{"AssumeRolePolicyDocument":` + policy + `}]}`, roleDoc, policy},
		{"policy URL-encoded stays as sent", `"iam":{"RoleDetailList":[{"AssumeRolePolicyDocument":"` + encoded + `"}]}`, roleDoc, encoded},
		{"inline policy object", `"iam":{"RoleDetailList":[{"RolePolicyList":[{"PolicyName":"p","PolicyDocument":{"Version":"2012-10-17"}}]}]}`,
			func(s *Snapshot) any { return aws.ToString(s.IAM.RoleDetailList[0].RolePolicyList[0].PolicyDocument) }, `{"Version":"2012-10-17"}`},
		{"policy version object", `"iam":{"Policies":[{"PolicyVersionList":[{"Document":{"Version":"2012-10-17","Statement":[]}}]}]}`,
			func(s *Snapshot) any { return aws.ToString(s.IAM.Policies[0].PolicyVersionList[0].Document) }, `{"Statement":[],"Version":"2012-10-17"}`},
		{"repository policy object", `"ecr":{"repositoryPolicies":{"app":{"Version":"2012-10-17"}}}`,
			func(s *Snapshot) any { return s.RepositoryPolicy(RepoKey{Name: "app"}) }, `{"Version":"2012-10-17"}`},
		{"number where SDK has string", `"ecs":{"taskDefinitions":[{"cpu":256,"memory":512.0}]}`,
			func(s *Snapshot) any {
				return aws.ToString(s.ECS.TaskDefinitions[0].Cpu) + "/" + aws.ToString(s.ECS.TaskDefinitions[0].Memory)
			}, "256/512.0"},
		{"string where SDK has number", `"ecs":{"services":[{"desiredCount":"2","runningCount":"1.0"}]}`,
			func(s *Snapshot) any { return [2]int32{s.ECS.Services[0].DesiredCount, s.ECS.Services[0].RunningCount} }, [2]int32{2, 1}},
		{"pointer number from string", `"ec2":{"subnets":[{"AvailableIpAddressCount":" 42 "}]}`,
			func(s *Snapshot) any { return aws.ToInt32(s.EC2.Subnets[0].AvailableIpAddressCount) }, int32(42)},
		{"mixed-case keys", `"EC2":{"SUBNETS":[{"subnetid":"subnet-1","VPCID":"vpc-1","mapPublicIPOnLaunch":true}]},"Region":"eu-west-1"`,
			func(s *Snapshot) any {
				return [3]any{aws.ToString(s.EC2.Subnets[0].SubnetId) + aws.ToString(s.EC2.Subnets[0].VpcId), aws.ToBool(s.EC2.Subnets[0].MapPublicIpOnLaunch), s.Region}
			}, [3]any{"subnet-1vpc-1", true, "eu-west-1"}},
		{"unknown keys ignored", `"future":{"x":1},"ec2":{"subnets":[{"SubnetId":"subnet-1","Bogus":{"deep":[1,2]}}],"carrierGateways":[]}`,
			func(s *Snapshot) any { return aws.ToString(s.EC2.Subnets[0].SubnetId) }, "subnet-1"},
		{"nulls and empties are absent", `"ec2":{"subnets":[{"SubnetId":"","MapPublicIpOnLaunch":null,"Tags":[]}]},"ecs":null`,
			func(s *Snapshot) any {
				return s.EC2.Subnets[0].SubnetId == nil && s.EC2.Subnets[0].MapPublicIpOnLaunch == nil && s.EC2.Subnets[0].Tags == nil
			},
			true},
		{"every section optional", ``, func(s *Snapshot) any { return reflect.DeepEqual(*s, Snapshot{Schema: SchemaV1}) }, true},
		{"vpc attributes", `"ec2":{"vpcAttributes":{"vpc-1":{"enablednssupport":false}}}`,
			func(s *Snapshot) any { return aws.ToBool(s.EC2.VpcAttributes["vpc-1"].EnableDnsSupport) }, false},
		{"union fields skipped", `"ecs":{"tasks":[{"taskArn":"arn:t","containers":[{"name":"c","gpuSharingStrategy":{"x":1}}]}]}`,
			func(s *Snapshot) any { return s.ECS.Tasks[0].Containers[0].Name }, aws.String("c")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := LoadSnapshot("snap.json", doc(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.get(s); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestLoadSnapshotErrors(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{"empty", ``, `snap.json: invalid JSON: the document is empty`},
		{"syntax", "{\n  \"schema\": \"pullmedic.snapshot/v1\",\n  \"ec2\": }\n",
			`snap.json:3:10: invalid JSON: invalid character '}' looking for beginning of value`},
		{"truncated", "{\n  \"schema\": \"pullmedic.snapshot/v1\",\n  \"ec2\": {", `snap.json:3:11: invalid JSON: unexpected end of JSON input`},
		{"trailing data", "{\"schema\":\"pullmedic.snapshot/v1\"}\n{}", `snap.json:2:1: invalid JSON: unexpected data after the top-level value`},
		{"top-level array", `[{"schema":"pullmedic.snapshot/v1"}]`, `snap.json: expected a JSON object at the top level, got array`},
		{"no schema", `{"ec2":{}}`, `snap.json: schema: missing: this build reads "pullmedic.snapshot/v1" snapshots`},
		{"other schema", `{"schema":"pullmedic.snapshot/v2"}`,
			`snap.json: schema: "pullmedic.snapshot/v2" is not supported (this build reads "pullmedic.snapshot/v1")`},
		{"schema not a string", `{"Schema":1}`, `snap.json: Schema: number 1 is not supported (this build reads "pullmedic.snapshot/v1")`},
		{"boolean", string(doc(`"ec2":{"subnets":[{},{},{"MapPublicIpOnLaunch":"yes"}]}`)),
			`snap.json: ec2.subnets[2].MapPublicIpOnLaunch: expected boolean, got string "yes"`},
		{"integer", string(doc(`"ecs":{"services":[{"desiredCount":"two"}]}`)), `snap.json: ecs.services[0].desiredCount: expected integer, got string "two"`},
		{"fraction for integer", string(doc(`"ecs":{"services":[{"desiredCount":1.5}]}`)), `snap.json: ecs.services[0].desiredCount: expected integer, got number 1.5`},
		{"overflow", string(doc(`"ecs":{"services":[{"desiredCount":99999999999}]}`)),
			`snap.json: ecs.services[0].desiredCount: number 99999999999 is out of range for int32`},
		{"timestamp", string(doc(`"ec2":{"natGateways":[{"CreateTime":"yesterday"}]}`)),
			`snap.json: ec2.natGateways[0].CreateTime: expected timestamp (ISO-8601 string or epoch seconds), got string "yesterday"`},
		{"timestamp type", string(doc(`"ec2":{"natGateways":[{"CreateTime":true}]}`)),
			`snap.json: ec2.natGateways[0].CreateTime: expected timestamp (ISO-8601 string or epoch seconds), got boolean true`},
		{"timestamp range", string(doc(`"ec2":{"natGateways":[{"CreateTime":1e300}]}`)), `snap.json: ec2.natGateways[0].CreateTime: timestamp number 1e300 is out of range`},
		{"array expected", string(doc(`"ec2":{"subnets":{"SubnetId":"subnet-1"}}`)), "snap.json: ec2.subnets: expected an array of Subnet, or the whole output of `aws ec2 describe-subnets` ({\"Subnets\": [...]}), got object"},
		{"object expected", string(doc(`"ecs":[]`)), `snap.json: ecs: expected object, got array`},
		{"string expected", string(doc(`"iam":{"RoleDetailList":[{"RoleName":true}]}`)), `snap.json: iam.RoleDetailList[0].RoleName: expected string, got boolean true`},
		{"number expected", string(doc(`"ec2":{"subnets":[{"AvailableIpAddressCount":[]}]}`)),
			`snap.json: ec2.subnets[0].AvailableIpAddressCount: expected number, got array`},
		{"map key in path", string(doc(`"ecr":{"images":{"team/app":[{"imagePushedAt":"soon"}]}}`)),
			`snap.json: ecr.images["team/app"][0].imagePushedAt: expected timestamp (ISO-8601 string or epoch seconds), got string "soon"`},
		{"long value shortened", string(doc(`"ec2":{"subnets":[{"MapPublicIpOnLaunch":"` + strings.Repeat("x", 100) + `"}]}`)),
			`snap.json: ec2.subnets[0].MapPublicIpOnLaunch: expected boolean, got string "` + strings.Repeat("x", 57) + `..."`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := LoadSnapshot("snap.json", []byte(tc.input))
			assertSnapshotError(t, err, tc.want)
			if s != nil {
				t.Errorf("got a snapshot with the error")
			}
		})
	}
}

func TestReadSnapshotFileMissing(t *testing.T) {
	_, err := ReadSnapshotFile("testdata/nope.json")
	assertSnapshotError(t, err, "testdata/nope.json: cannot read: no such file or directory")
}

func assertSnapshotError(t *testing.T, err error, want string) {
	t.Helper()
	var se *SnapshotError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v (%T), want *SnapshotError", err, err)
	}
	if se.Error() != want {
		t.Errorf("error\n got: %s\nwant: %s", se.Error(), want)
	}
}
