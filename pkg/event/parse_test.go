package event

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestParseEventFiles covers every event in testdata; a new file needs a row.
func TestParseEventFiles(t *testing.T) {
	tests := map[string]struct {
		want    *Task // nil when the event is refused
		wantErr string
		nothing bool // ErrNothingToDiagnose
	}{
		"running-fargate-docs-sample.json": {wantErr: `lastStatus is "RUNNING": pullmedic only diagnoses stopped tasks`},
		"container-instance-state-change.json": {
			wantErr: `detail-type "ECS Container Instance State Change" from source "aws.ecs" is not supported`,
		},
		"stopped-pull-timeout-service.json": {want: &Task{
			EventID: "0f4d8a2e-61b7-4c1a-9d3e-2b7f5c9a1e04", Account: "210987654321", Region: "eu-west-1",
			Time:              time.Date(2026, 10, 2, 14, 22, 31, 0, time.UTC),
			TaskArn:           "arn:aws:ecs:eu-west-1:210987654321:task/payments/4c2b1a0f9e8d7c6b5a4f3e2d1c0b9a87",
			ClusterArn:        "arn:aws:ecs:eu-west-1:210987654321:cluster/payments",
			TaskDefinitionArn: "arn:aws:ecs:eu-west-1:210987654321:task-definition/payments-api:41",
			Group:             "service:payments-api", Service: "payments-api", StartedBy: "ecs-svc/8830144125590311762",
			LaunchType: "FARGATE", PlatformVersion: "1.4.0", LastStatus: "STOPPED", StopCode: "TaskFailedToStart",
			StoppedReason: sampleTimeout,
			SubnetID:      "subnet-0c9d8e7f6a5b4c3d2", ENIID: "eni-0f1e2d3c4b5a69788", PrivateIP: "172.31.40.12",
			Containers:      []Container{{Name: "api", Image: "210987654321.dkr.ecr.eu-west-1.amazonaws.com/payments-api:2026.10.02"}},
			Failure:         sampleTimeout,
			FailedContainer: "api",
			Class:           ClassNetwork,
			FailedHost:      "210987654321.dkr.ecr.eu-west-1.amazonaws.com",
		}},
		"stopped-old-platform-container-reason.json": {want: &Task{
			EventID: "a9e1c3b5-7d2f-4e6a-8b0c-1d3e5f7a9b2c", Account: "210987654321", Region: "eu-west-1",
			Time:              time.Date(2026, 9, 14, 8, 5, 11, 0, time.UTC),
			TaskArn:           "arn:aws:ecs:eu-west-1:210987654321:task/batch/0a9b8c7d6e5f40312a3b4c5d6e7f8091",
			ClusterArn:        "arn:aws:ecs:eu-west-1:210987654321:cluster/batch",
			TaskDefinitionArn: "arn:aws:ecs:eu-west-1:210987654321:task-definition/nightly-report:7",
			Group:             "family:nightly-report", StartedBy: "events-rule/nightly-report",
			LaunchType: "FARGATE", PlatformVersion: "1.3.0", LastStatus: "STOPPED", StopCode: "TaskFailedToStart",
			StoppedReason: "Task failed to start",
			SubnetID:      "subnet-0aa1bb2cc3dd4ee5f", ENIID: "eni-0ef479fe627e8ccf5", PrivateIP: "10.8.42.109",
			Containers:      []Container{{Name: "worker", Image: "busybox:1.36", Reason: oldPlatformReason}},
			Failure:         oldPlatformReason,
			FailedContainer: "worker",
			Class:           ClassNetwork,
			FailedHost:      "registry-1.docker.io",
		}},
		"stopped-ec2-agent-curly-apostrophe.json": {want: &Task{
			EventID: "5b1e7c2a-3f4d-4e8b-9a0c-6d2e8f1a3b5c", Account: "111122223333", Region: "us-east-1",
			Time:              time.Date(2026, 8, 3, 11, 40, 2, 0, time.UTC),
			TaskArn:           "arn:aws:ecs:us-east-1:111122223333:task/ec2-pool/9e8d7c6b5a4f40312a3b4c5d6e7f8a9b",
			ClusterArn:        "arn:aws:ecs:us-east-1:111122223333:cluster/ec2-pool",
			TaskDefinitionArn: "arn:aws:ecs:us-east-1:111122223333:task-definition/web:12",
			Group:             "service:web", Service: "web", StartedBy: "ecs-svc/1234567890123456789",
			LaunchType: "EC2", LastStatus: "STOPPED", StopCode: "TaskFailedToStart",
			StoppedReason:        "Task failed to start",
			ContainerInstanceArn: "arn:aws:ecs:us-east-1:111122223333:container-instance/ec2-pool/0f9e8d7c6b5a49382716a5b4c3d2e1f0",
			Containers: []Container{
				{Name: "sidecar", Image: "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0"},
				{Name: "web", Image: "111122223333.dkr.ecr.us-east-1.amazonaws.com/web:3.1", Reason: ec2AgentReason},
			},
			Failure:         ec2AgentReason,
			FailedContainer: "web",
			Class:           ClassIAM,
			FailedHost:      "111122223333.dkr.ecr.us-east-1.amazonaws.com",
		}},
		"stopped-user-stop.json": {nothing: true, want: &Task{
			EventID: "c4d5e6f7-0812-4a3b-9c4d-5e6f70819a2b", Account: "210987654321", Region: "eu-west-1",
			Time:              time.Date(2026, 10, 2, 16, 0, 0, 0, time.UTC),
			TaskArn:           "arn:aws:ecs:eu-west-1:210987654321:task/payments/1a2b3c4d5e6f47808192a3b4c5d6e7f8",
			ClusterArn:        "arn:aws:ecs:eu-west-1:210987654321:cluster/payments",
			TaskDefinitionArn: "arn:aws:ecs:eu-west-1:210987654321:task-definition/payments-api:41",
			Group:             "service:payments-api", Service: "payments-api",
			LaunchType: "FARGATE", PlatformVersion: "1.4.0", LastStatus: "STOPPED", StopCode: "UserInitiated",
			StoppedReason: "Task stopped by user",
			SubnetID:      "subnet-0c9d8e7f6a5b4c3d2", ENIID: "eni-0a0b0c0d0e0f01020", PrivateIP: "172.31.40.77",
			Containers: []Container{{Name: "api", Image: "210987654321.dkr.ecr.eu-west-1.amazonaws.com/payments-api:2026.10.02"}},
			Failure:    "Task stopped by user",
			Class:      ClassUnknown,
		}},
	}
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata events: %v", err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			tc, ok := tests[name]
			if !ok {
				t.Fatalf("testdata/%s has no expectation in this table", name)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse(data)
			switch {
			case tc.wantErr != "":
				assertInputError(t, err, tc.wantErr)
				if got != nil {
					t.Errorf("refused event returned a task: %+v", got)
				}
				return
			case tc.nothing:
				if !errors.Is(err, ErrNothingToDiagnose) {
					t.Fatalf("err = %v, want ErrNothingToDiagnose", err)
				}
			case err != nil:
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				g, _ := json.MarshalIndent(got, "", " ")
				w, _ := json.MarshalIndent(tc.want, "", " ")
				t.Errorf("task mismatch\n got: %s\nwant: %s", g, w)
			}
		})
	}
}

const (
	sampleTimeout     = `CannotPullContainerError: The task cannot pull 210987654321.dkr.ecr.eu-west-1.amazonaws.com/payments-api:2026.10.02 from the registry 210987654321.dkr.ecr.eu-west-1.amazonaws.com. There is a connection issue between the task and the registry. Check your task network configuration. : failed to copy: httpReadSeeker: failed open: failed to do request: Get "https://210987654321.dkr.ecr.eu-west-1.amazonaws.com/v2/payments-api/manifests/2026.10.02": dial tcp 52.95.120.5:443: i/o timeout`
	oldPlatformReason = `CannotPullContainerError: API error (500): Get https://registry-1.docker.io/v2/: net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)`
	ec2AgentReason    = `The task can’t pull the image. Check that the role has the permissions to pull images from the registry. CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref 111122223333.dkr.ecr.us-east-1.amazonaws.com/web:3.1: pulling from host 111122223333.dkr.ecr.us-east-1.amazonaws.com failed with status code [manifests 3.1]: 403 Forbidden`
)

func assertInputError(t *testing.T, err error, want string) {
	t.Helper()
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v (%T), want *InputError", err, err)
	}
	if !strings.Contains(ie.Error(), want) {
		t.Errorf("error %q\nshould contain %q", ie.Error(), want)
	}
}

// stoppedEvent is a minimal valid stopped-task event with the given detail overrides.
func stoppedEvent(t *testing.T, overrides map[string]any) []byte {
	t.Helper()
	d := map[string]any{
		"taskArn":       "arn:aws:ecs:us-east-1:111122223333:task/c/0123456789abcdef0123456789abcdef",
		"clusterArn":    "arn:aws:ecs:us-east-1:111122223333:cluster/c",
		"lastStatus":    "STOPPED",
		"stoppedReason": "Task failed to start",
		"containers":    []any{map[string]any{"name": "app", "image": "app:1"}},
	}
	for k, v := range overrides {
		if v == nil {
			delete(d, k)
		} else {
			d[k] = v
		}
	}
	data, err := json.Marshal(map[string]any{
		"version": "0", "id": "e1", "detail-type": "ECS Task State Change", "source": "aws.ecs",
		"account": "111122223333", "time": "2026-01-02T03:04:05Z", "region": "us-east-1", "detail": d,
	})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseRefusesBadInput(t *testing.T) {
	valid := string(stoppedEvent(t, nil))
	tests := []struct {
		name, input, want string
	}{
		{"empty", "", "event: invalid JSON at byte offset 0"},
		{"truncated", `{"detail-type": `, "event: invalid JSON at byte offset 16"},
		{"trailing garbage", valid + "}", "invalid JSON at byte offset"},
		{"array", `[1,2]`, "event: expected a JSON object, got array"},
		{"string", `"hello"`, "event: expected a JSON object, got string"},
		{"null", `null`, `detail-type "" from source "" is not supported`},
		{"bare detail", `{"taskArn":"arn:aws:ecs:us-east-1:1:task/c/1","lastStatus":"STOPPED"}`, `detail-type "" from source ""`},
		{"wrong source", strings.Replace(valid, `"aws.ecs"`, `"aws.ec2"`, 1), `source "aws.ec2" is not supported`},
		{"no detail", `{"detail-type":"ECS Task State Change","source":"aws.ecs"}`, "event: no detail object"},
		{"detail is a string", `{"detail-type":"ECS Task State Change","source":"aws.ecs","detail":"x"}`,
			"event: field detail: expected object, got string"},
		{"containers not an array", string(stoppedEvent(t, map[string]any{"containers": "x"})),
			"event: field detail.containers: expected array, got string"},
		{"container name a number", string(stoppedEvent(t, map[string]any{"containers": []any{map[string]any{"name": 3}}})),
			"event: field detail.containers.name: expected string, got number"},
		{"bad time", strings.Replace(valid, "2026-01-02T03:04:05Z", "yesterday", 1), `field time: "yesterday" is not an RFC 3339 timestamp`},
		{"no taskArn", string(stoppedEvent(t, map[string]any{"taskArn": nil})), `detail.taskArn is missing or not an ARN: ""`},
		{"taskArn not an ARN", string(stoppedEvent(t, map[string]any{"taskArn": "abc"})), `detail.taskArn is missing or not an ARN: "abc"`},
		{"no clusterArn", string(stoppedEvent(t, map[string]any{"clusterArn": nil})), `detail.clusterArn is missing or not an ARN`},
		{"pending", string(stoppedEvent(t, map[string]any{"lastStatus": "PENDING"})), `lastStatus is "PENDING": pullmedic only diagnoses stopped tasks`},
		{"containerInstanceArn not an ARN", string(stoppedEvent(t, map[string]any{"containerInstanceArn": "i-0abc"})), `detail.containerInstanceArn is not an ARN: "i-0abc"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.input))
			assertInputError(t, err, tc.want)
			if got != nil {
				t.Errorf("got a task for refused input: %+v", got)
			}
		})
	}
}

// TestParseReasonForms puts every stop reason of the table in both places ECS
// reports it: stoppedReason (current Fargate) and containers[].reason behind a
// generic "Task failed to start" (older platforms, EC2).
func TestParseReasonForms(t *testing.T) {
	for _, rc := range reasonCases {
		forms := map[string]map[string]any{
			"stoppedReason": {"stoppedReason": rc.text + "\n"},
			"containerReason": {"stoppedReason": "Task failed to start", "containers": []any{
				map[string]any{"name": "init", "image": "init:1", "reason": "Essential container in task exited"},
				map[string]any{"name": "app", "image": "app:1", "reason": rc.text + "\r\n"},
			}},
			"containerReasonNoStoppedReason": {"stoppedReason": nil, "containers": []any{
				map[string]any{"name": "app", "image": "app:1", "reason": rc.text},
			}},
		}
		for form, over := range forms {
			t.Run(rc.name+"/"+form, func(t *testing.T) {
				task, err := Parse(stoppedEvent(t, over))
				if task == nil {
					t.Fatalf("no task, err %v", err)
				}
				if rc.pull != (err == nil) || !rc.pull && !errors.Is(err, ErrNothingToDiagnose) {
					t.Fatalf("pull failure %v, err = %v", rc.pull, err)
				}
				if !rc.pull {
					return
				}
				if task.Failure != rc.text || task.Class != rc.class || task.FailedHost != rc.host {
					t.Errorf("got failure %q class %s host %q\nwant class %s host %q", task.Failure, task.Class, task.FailedHost, rc.class, rc.host)
				}
				if form != "stoppedReason" && task.FailedContainer != "app" {
					t.Errorf("FailedContainer = %q, want app", task.FailedContainer)
				}
			})
		}
	}
}

func TestParseFillsFromARNWhenEnvelopeLacksRegion(t *testing.T) {
	data := []byte(`{"detail-type":"ECS Task State Change","source":"aws.ecs","detail":{
		"taskArn":"arn:aws:ecs:ap-south-1:444455556666:task/c/1","clusterArn":"arn:aws:ecs:ap-south-1:444455556666:cluster/c",
		"lastStatus":"STOPPED","stoppedReason":"CannotPullContainerError: context deadline exceeded",
		"attachments":[{"type":"eni","details":[{"name":"subnetId","value":"subnet-1"}]}]}}`)
	task, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if task.Region != "ap-south-1" || task.Account != "444455556666" || task.SubnetID != "subnet-1" || task.Service != "" {
		t.Errorf("got region %q account %q subnet %q service %q", task.Region, task.Account, task.SubnetID, task.Service)
	}
}

// TestFailedContainer covers how a stoppedReason that names no container is
// tied to one: by the image as written, by its registry API path, or because
// the task has a single image.
func TestFailedContainer(t *testing.T) {
	xray := map[string]any{"name": "xray", "image": "amazon/aws-xray-daemon:3.x"}
	web := map[string]any{"name": "web", "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/web:3.1"}
	sidecar := map[string]any{"name": "log-router"}
	tests := []struct {
		name       string
		reason     string
		containers []any
		want       string
	}{
		{"image as written", `CannotPullContainerError: failed to resolve ref 111122223333.dkr.ecr.us-east-1.amazonaws.com/web:3.1: not found`,
			[]any{xray, web}, "web"},
		{"registry API path", `CannotPullContainerError: inspect image has been retried 5 time(s): httpReadSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/amazon/aws-xray-daemon/manifests/sha256:e0a8...`,
			[]any{web, xray}, "xray"},
		{"single image among containers without one", `CannotPullContainerError: context canceled`, []any{sidecar, web}, "web"},
		{"two images, neither named", `CannotPullContainerError: context canceled`, []any{xray, web}, ""},
		{"a repository path is not a prefix of another", `CannotPullContainerError: unexpected status code https://registry-1.docker.io/v2/amazon/aws-xray-daemon-ng/manifests/1: 502 Bad Gateway`,
			[]any{xray, web}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			task, err := Parse(stoppedEvent(t, map[string]any{"stoppedReason": tc.reason, "containers": tc.containers}))
			if err != nil {
				t.Fatal(err)
			}
			if task.FailedContainer != tc.want {
				t.Errorf("FailedContainer = %q, want %q", task.FailedContainer, tc.want)
			}
		})
	}
}
