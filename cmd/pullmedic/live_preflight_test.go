package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/internal/motoserver"
	"github.com/pullmedic/pullmedic/pkg/report"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

// TestLivePreflight judges, in moto, the service seedPublicSubnetService
// builds (a public subnet, no public IP), and a new revision of its task
// definition whose tag was never pushed. No task of it ever ran: preflight
// needs none.
func TestLivePreflight(t *testing.T) {
	useMoto(t)
	seedPublicSubnetService(t)
	image := motoAccount + ".dkr.ecr." + motoRegion + ".amazonaws.com/web:2"
	_, err := ecs.NewFromConfig(motoserver.Config(t, motoRegion)).RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"), NetworkMode: ecstypes.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		ExecutionRoleArn:        aws.String("arn:aws:iam::" + motoAccount + ":role/ecsTaskExecutionRole"),
		ContainerDefinitions:    []ecstypes.ContainerDefinition{{Name: aws.String("web"), Image: aws.String(image), Memory: aws.Int32(512), Essential: aws.Bool(true)}},
	})
	if err != nil {
		t.Fatalf("seed web:2: %v", err)
	}
	clusterARN := "arn:aws:ecs:" + motoRegion + ":" + motoAccount + ":cluster/shop"

	tests := []struct {
		name     string
		args     []string
		code     int
		taskDef  string       // the task definition judged
		failing  []string     // rules that must fail
		errLine  string       // for bad input: the one line on stderr
		imageTag rules.Status // image.tag's verdict
	}{
		{name: "the service's current task definition", args: []string{"--cluster", "shop", "--service", "web", "--region", motoRegion},
			code: exitFailing, taskDef: "web:1", failing: []string{"network.public-ip"}, imageTag: rules.Pass},
		{name: "a new revision; the region from the cluster ARN", args: []string{"--cluster", clusterARN, "--service", "web", "--task-definition", "web:2"},
			code: exitFailing, taskDef: "web:2", failing: []string{"network.public-ip", "image.tag"}, imageTag: rules.Fail},
		{name: "no such service", args: []string{"--cluster", "shop", "--service", "api", "--region", motoRegion},
			code: exitBadInput, errLine: "pullmedic: --service api: MISSING in cluster shop in eu-west-1: check --cluster, --service and --region\n"},
		{name: "no such cluster", args: []string{"--cluster", "shops", "--service", "web", "--region", motoRegion},
			code: exitBadInput, errLine: "pullmedic: --cluster shops: no such cluster in eu-west-1: check --cluster and --region\n"},
		{name: "no such revision", args: []string{"--cluster", "shop", "--service", "web", "--task-definition", "web:9", "--region", motoRegion},
			code: exitBadInput, errLine: "pullmedic: --task-definition web:9: not found in eu-west-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, "", append([]string{"preflight", "--format", "json"}, tc.args...)...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s\n%s", r.code, tc.code, r.stderr, r.stdout)
			}
			if tc.errLine != "" {
				if !strings.HasPrefix(r.stderr, tc.errLine) || strings.Count(r.stderr, "\n") != 1 || r.stdout != "" {
					t.Errorf("stderr %q, want one line starting %q, and no stdout", r.stderr, tc.errLine)
				}
				return
			}
			var rep report.Report
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
				t.Fatal(err)
			}
			if rep.Mode != report.ModePreflight || !strings.HasSuffix(rep.Task.TaskDefinitionArn, "/"+tc.taskDef) || rep.Task.SubnetID == "" {
				t.Errorf("mode %q, task definition %s, subnet %q", rep.Mode, rep.Task.TaskDefinitionArn, rep.Task.SubnetID)
			}
			for _, id := range tc.failing {
				if fd, _ := rep.Finding(id); fd.Status != rules.Fail {
					t.Errorf("%s: %s (%s), want fail", id, fd.Status, fd.Message)
				}
			}
			if fd, _ := rep.Finding("image.tag"); fd.Status != tc.imageTag {
				t.Errorf("image.tag: %s (%s), want %s", fd.Status, fd.Message, tc.imageTag)
			}
			if len(rep.Unchecked) > 0 {
				t.Errorf("rules in error: %+v", rep.Unchecked)
			}
		})
	}
}
