package account

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// roundTrip marshals a snapshot and loads it back.
func roundTrip(t *testing.T, s *Snapshot) (*Snapshot, []byte) {
	t.Helper()
	out, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := LoadSnapshot("marshalled.json", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return back, out
}

func TestSnapshotRoundTrip(t *testing.T) {
	fromFile, err := ReadSnapshotFile(cliSnapshot)
	if err != nil {
		t.Fatal(err)
	}
	built := &Snapshot{
		Schema: SchemaV1, Region: "us-east-1",
		ECS: ECSSection{Clusters: []ecstypes.Cluster{{ClusterName: aws.String("c"), RunningTasksCount: 2}}},
		EC2: EC2Section{
			Subnets:       []ec2types.Subnet{{SubnetId: aws.String("subnet-1"), MapPublicIpOnLaunch: aws.Bool(false)}},
			NatGateways:   []ec2types.NatGateway{{NatGatewayId: aws.String("nat-1"), CreateTime: aws.Time(time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC))}},
			VpcAttributes: map[string]VPCAttributes{"vpc-1": {EnableDnsHostnames: aws.Bool(true)}, "vpc-2": {}},
		},
		ECR: ECRSection{
			Images:             map[string][]ecrtypes.ImageDetail{"team/app": {{ImageTags: []string{"1", "2"}}}},
			RepositoryPolicies: map[string]string{"Team/App": `{"Version":"2012-10-17"}`},
		},
	}
	for name, s := range map[string]*Snapshot{"from file": fromFile, "built": built} {
		t.Run(name, func(t *testing.T) {
			back, _ := roundTrip(t, s)
			if !reflect.DeepEqual(back, s) {
				a, _ := json.MarshalIndent(s, "", " ")
				b, _ := json.MarshalIndent(back, "", " ")
				t.Errorf("round trip changed the snapshot\nbefore: %s\nafter:  %s", a, b)
			}
		})
	}
}

func TestMarshalStyle(t *testing.T) {
	s, err := ReadSnapshotFile(cliSnapshot)
	if err != nil {
		t.Fatal(err)
	}
	s.ECR.RepositoryPolicies = map[string]string{"Team/App": `{"Version":"2012-10-17"}`}
	s.IAM.RoleDetailList[0].RolePolicyList[0].PolicyDocument = aws.String("%7B%22Version%22%3A%222012-10-17%22%7D")
	// A live-collected time carries a local zone; the file says UTC.
	s.EC2.NatGateways[0].CreateTime = aws.Time(time.Date(2026, 9, 30, 12, 0, 0, 0, time.FixedZone("CEST", 7200)))
	out, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, want := range []string{
		"{\n  \"schema\": \"pullmedic.snapshot/v1\",\n  \"account\": \"210987654321\",", // field order, indented
		`"clusterArn": "arn:aws:ecs:eu-west-1:210987654321:cluster/payments"`,           // ECS camelCase
		`"awsvpcConfiguration": {`,
		`"repositoryName": "payments-api"`, // ECR camelCase
		`"Team/App": {`,                    // map keys as they are; policy documents as objects
		`"AssumeRolePolicyDocument": {`,
		`"PolicyDocument": "%7B%22Version%22%3A%222012-10-17%22%7D"`, // URL-encoded stays a string
		`"MapPublicIpOnLaunch": false`,                               // EC2 PascalCase, false kept
		`"RoleDetailList": [`,                                        // IAM PascalCase
		`"CreateTime": "2026-09-30T10:00:00Z"`,
		`"registeredAt": "2026-10-02T14:10:00.512Z"`,
		`"vpc-0f0e0d0c0b0a09080": {`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %s", want)
		}
	}
	for _, unwanted := range []string{"null", `""`, "[]", "{}\n", `"ClusterArn"`, `"subnetId"`, `"pendingTasksCount"`} {
		if strings.Contains(text, unwanted) {
			t.Errorf("output contains %s", unwanted)
		}
	}
	if !bytes.HasSuffix(out, []byte("}\n")) {
		t.Error("output does not end with a newline")
	}
}

// TestCloneCopesWithUnions: a live ECS task may carry SDK union values, which
// encoding/json cannot read back; the snapshot format leaves them out.
func TestCloneCopesWithUnions(t *testing.T) {
	s := &Snapshot{Schema: SchemaV1, ECS: ECSSection{Tasks: []ecstypes.Task{{
		TaskArn:    aws.String("arn:t"),
		Containers: []ecstypes.Container{{Name: aws.String("c"), GpuSharingStrategy: &ecstypes.SharingStrategyMemberNvidiaMps{}}},
	}}}}
	raw, _ := json.Marshal(s)
	if json.Unmarshal(raw, &Snapshot{}) == nil {
		t.Fatal("encoding/json now reads unions; Clone could use it")
	}
	cp, err := s.Clone()
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(cp.ECS.Tasks[0].Containers[0].Name) != "c" || cp.ECS.Tasks[0].Containers[0].GpuSharingStrategy != nil {
		t.Errorf("clone = %+v", cp.ECS.Tasks[0].Containers[0])
	}
}
