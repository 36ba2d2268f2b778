package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/internal/golden"
	"github.com/pullmedic/pullmedic/pkg/event"
	"github.com/pullmedic/pullmedic/pkg/report"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

const preflights = "../../examples/preflight/"

// preflightWant is each preflight scenario's cause ("" for none), kept apart
// from the goldens so that regenerating one cannot hide a wrong cause.
var preflightWant = map[string]struct {
	cause string
	code  int
}{
	"healthy-service":                  {"", exitOK},
	"new-revision-tag-never-pushed":    {"image.tag", exitFailing},
	"service-moved-to-isolated-subnet": {"network.route", exitFailing},
}

// TestPreflightScenarios runs each scenario of examples/preflight through the
// CLI, offline: its args with --snapshot, in every format.
func TestPreflightScenarios(t *testing.T) {
	entries, err := os.ReadDir(preflights)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(preflightWant)+1 { // + README.md
		t.Errorf("%d entries in %s but %d expected causes: keep preflightWant in step with the folders", len(entries), preflights, len(preflightWant))
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		t.Run(name, func(t *testing.T) {
			want, ok := preflightWant[name]
			if !ok {
				t.Fatalf("no expected cause for %s in preflightWant", name)
			}
			dir := preflights + name + "/"
			args := append([]string{"preflight", "--snapshot", dir + "snapshot.json"}, strings.Fields(mustRead(t, dir+"args"))...)

			js := runCLI(t, "", append(args, "--format", "json")...)
			if js.code != want.code || js.stderr != "" {
				t.Fatalf("json: exit %d, want %d; stderr: %s", js.code, want.code, js.stderr)
			}
			golden.Check(t, dir+"report.golden.json", []byte(js.stdout))
			var rep report.Report
			if err := json.Unmarshal([]byte(js.stdout), &rep); err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(rep.Cause); got != want.cause {
				t.Errorf("cause %q, want %q", got, want.cause)
			}
			if rep.Mode != report.ModePreflight || rep.Task.StoppedReason != "" || rep.Task.TaskArn != "" || rep.ReasonClass != event.ClassUnknown {
				t.Errorf("mode %q, stop reason %q, task %q, class %q: want a preflight with no stop reason, no task ARN, class unknown",
					rep.Mode, rep.Task.StoppedReason, rep.Task.TaskArn, rep.ReasonClass)
			}
			if len(rep.Findings) != len(rules.Catalog) {
				t.Errorf("%d findings, want every rule of the catalog (%d)", len(rep.Findings), len(rules.Catalog))
			}

			md := runCLI(t, "", append(args, "--format", "markdown")...)
			if md.code != want.code {
				t.Errorf("markdown: exit %d, want %d; stderr: %s", md.code, want.code, md.stderr)
			}
			golden.Check(t, dir+"report.golden.md", []byte(md.stdout))

			text := runCLI(t, "", args...)
			if text.code != want.code || !strings.HasPrefix(text.stdout, "Preflight of service web with task definition ") {
				t.Errorf("text: exit %d, want %d; stdout:\n%s", text.code, want.code, text.stdout)
			}
		})
	}
}

// editedSnapshot writes the healthy preflight snapshot after edit.
func editedSnapshot(t *testing.T, edit func(snap map[string]any)) string {
	t.Helper()
	return editSnapshot(t, preflights+"healthy-service/snapshot.json", edit)
}

// editSnapshot writes the snapshot at src, after edit, to a temporary file.
func editSnapshot(t *testing.T, src string, edit func(snap map[string]any)) string {
	t.Helper()
	var snap map[string]any
	if err := json.Unmarshal([]byte(mustRead(t, src)), &snap); err != nil {
		t.Fatal(err)
	}
	edit(snap)
	data, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "snapshot.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func firstService(snap map[string]any) map[string]any {
	return snap["ecs"].(map[string]any)["services"].([]any)[0].(map[string]any)
}

func TestPreflightInput(t *testing.T) {
	healthy := preflights + "healthy-service/snapshot.json"
	twoRevisions := preflights + "new-revision-tag-never-pushed/snapshot.json"
	bridge := editedSnapshot(t, func(s map[string]any) { delete(firstService(s), "networkConfiguration") })
	deleted := editedSnapshot(t, func(s map[string]any) { firstService(s)["status"] = "INACTIVE" })
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   []string
		errLine  string // stderr is this one line
		errParts []string
	}{
		{name: "no cluster", args: []string{"--service", "web"}, code: exitBadInput, errParts: []string{"--cluster is required", "Usage:"}},
		{name: "no service", args: []string{"--cluster", "shop"}, code: exitBadInput, errParts: []string{"--service is required", "Usage:"}},
		{name: "bad format", args: []string{"--cluster", "shop", "--service", "web", "--format", "html"}, code: exitBadInput,
			errParts: []string{`--format must be text, json or markdown, not "html"`}},
		{name: "service and cluster by ARN", args: []string{"--snapshot", healthy, "--cluster", "arn:aws:ecs:eu-west-1:111122223333:cluster/shop",
			"--service", "arn:aws:ecs:eu-west-1:111122223333:service/shop/web"}, code: exitOK, stdout: []string{"task definition web:12:"}},
		{name: "service not in the snapshot", args: []string{"--snapshot", healthy, "--cluster", "shop", "--service", "api"}, code: exitBadInput,
			errLine: "pullmedic: " + healthy + ": no service api in cluster shop (the snapshot holds shop/web): check --cluster and --service, or collect a snapshot that holds it\n"},
		{name: "service of another cluster", args: []string{"--snapshot", healthy, "--cluster", "payments", "--service", "web"}, code: exitBadInput,
			errLine: "pullmedic: " + healthy + ": no service web in cluster payments (the snapshot holds shop/web): check --cluster and --service, or collect a snapshot that holds it\n"},
		{name: "revision not in the snapshot", args: []string{"--snapshot", twoRevisions, "--cluster", "shop", "--service", "web", "--task-definition", "web:14"},
			code: exitBadInput, errLine: "pullmedic: " + twoRevisions + ": --task-definition web:14 is not in the snapshot (it holds web:12, web:13)\n"},
		{name: "family alone is its latest revision", args: []string{"--snapshot", twoRevisions, "--cluster", "shop", "--service", "web", "--task-definition", "web"},
			code: exitFailing, stdout: []string{"task definition web:13:", "Cause image.tag"}},
		{name: "revision by ARN", args: []string{"--snapshot", twoRevisions, "--cluster", "shop", "--service", "web",
			"--task-definition", "arn:aws:ecs:eu-west-1:111122223333:task-definition/web:12"}, code: exitOK, stdout: []string{"task definition web:12:"}},
		{name: "without --task-definition the service's current one", args: []string{"--snapshot", twoRevisions, "--cluster", "shop", "--service", "web"},
			code: exitOK, stdout: []string{"task definition web:12:"}},
		{name: "no awsvpc network", args: []string{"--snapshot", bridge, "--cluster", "shop", "--service", "web"}, code: exitBadInput,
			errLine: "pullmedic: --service web: the service has no awsvpc network configuration: preflight judges tasks that get their own network interface in the service's subnets (network mode awsvpc)\n"},
		{name: "deleted service", args: []string{"--snapshot", deleted, "--cluster", "shop", "--service", "web"}, code: exitBadInput,
			errLine: "pullmedic: --service web: the service is INACTIVE (deleted): it starts no tasks to judge\n"},
		{name: "help", args: []string{"--help"}, code: exitOK,
			stdout: []string{"pullmedic preflight --cluster NAME --service NAME", "-task-definition", "markdown", "Examples:", "GITHUB_STEP_SUMMARY", "Exit codes:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, "", append([]string{"preflight"}, tc.args...)...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tc.code, r.stdout, r.stderr)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
				}
			}
			for _, s := range tc.errParts {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
				}
			}
			if tc.errLine != "" && (r.stderr != tc.errLine || r.stdout != "") {
				t.Errorf("stderr %q, want %q; stdout %q, want none", r.stderr, tc.errLine, r.stdout)
			}
		})
	}
}

func TestPlannedTask(t *testing.T) {
	td := ecstypes.TaskDefinition{
		TaskDefinitionArn: aws.String("arn:aws:ecs:eu-west-1:111122223333:task-definition/web:13"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{
			{Name: aws.String("web"), Image: aws.String("111122223333.dkr.ecr.eu-west-1.amazonaws.com/web:2")},
			{Name: aws.String("envoy"), Image: aws.String("public.ecr.aws/appmesh/aws-appmesh-envoy:v1")},
		},
	}
	service := func(edit func(*ecstypes.Service)) ecstypes.Service {
		s := ecstypes.Service{
			ServiceName: aws.String("web"), ServiceArn: aws.String("arn:aws:ecs:eu-west-1:111122223333:service/shop/web"),
			ClusterArn: aws.String("arn:aws:ecs:eu-west-1:111122223333:cluster/shop"),
			LaunchType: ecstypes.LaunchTypeFargate, PlatformVersion: aws.String("LATEST"),
			NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
				Subnets: []string{"subnet-a", "subnet-b"}, SecurityGroups: []string{"sg-1"}}},
		}
		edit(&s)
		return s
	}
	strategy := func(providers ...string) []ecstypes.CapacityProviderStrategyItem {
		var out []ecstypes.CapacityProviderStrategyItem
		for _, p := range providers {
			out = append(out, ecstypes.CapacityProviderStrategyItem{CapacityProvider: aws.String(p)})
		}
		return out
	}
	tests := []struct {
		name       string
		svc        ecstypes.Service
		launchType string
		err        string
	}{
		{name: "Fargate service", svc: service(func(*ecstypes.Service) {}), launchType: "FARGATE"},
		{name: "Fargate and Fargate Spot providers", svc: service(func(s *ecstypes.Service) {
			s.LaunchType, s.CapacityProviderStrategy = "", strategy("FARGATE", "FARGATE_SPOT")
		}), launchType: "FARGATE"},
		{name: "an Auto Scaling group provider runs EC2", svc: service(func(s *ecstypes.Service) {
			s.LaunchType, s.CapacityProviderStrategy = "", strategy("shop-asg")
		}), launchType: "EC2"},
		{name: "the cluster's default strategy is not known", svc: service(func(s *ecstypes.Service) { s.LaunchType = "" }), launchType: ""},
		{name: "no network configuration", svc: service(func(s *ecstypes.Service) { s.NetworkConfiguration = nil }), err: "no awsvpc network configuration"},
		{name: "no subnets", svc: service(func(s *ecstypes.Service) { s.NetworkConfiguration.AwsvpcConfiguration.Subnets = nil }), err: "no awsvpc network configuration"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			task, err := plannedTask(tc.svc, td, "eu-west-1")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := &event.Task{
				Account: "111122223333", Region: "eu-west-1",
				ClusterArn: "arn:aws:ecs:eu-west-1:111122223333:cluster/shop", TaskDefinitionArn: aws.ToString(td.TaskDefinitionArn),
				Group: "service:web", Service: "web", LaunchType: tc.launchType, PlatformVersion: "LATEST",
				SubnetID: "subnet-a", Class: event.ClassUnknown,
				Containers: []event.Container{
					{Name: "web", Image: "111122223333.dkr.ecr.eu-west-1.amazonaws.com/web:2"},
					{Name: "envoy", Image: "public.ecr.aws/appmesh/aws-appmesh-envoy:v1"},
				},
			}
			if !reflect.DeepEqual(task, want) {
				t.Errorf("task\n got %+v\nwant %+v", task, want)
			}
		})
	}
}

// Live, a cluster and service given by name say nothing of the region; with
// none configured either, preflight asks for one before any AWS call.
func TestPreflightNeedsARegion(t *testing.T) {
	for _, v := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	r := runCLI(t, "", "preflight", "--cluster", "shop", "--service", "web")
	if r.code != exitBadInput || !strings.HasPrefix(r.stderr, "pullmedic preflight: no AWS region: give --region, or set AWS_REGION") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}
