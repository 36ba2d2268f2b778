package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const templatePath = "../template.yaml"

// templatePatterns reads every EventBridgeRule pattern of the template's
// functions, keyed by event name. Only the typed path is decoded, so the SAM
// short-form tags (!Ref, !Sub, ...) elsewhere never reach the decoder.
func templatePatterns(t *testing.T) map[string]map[string]any {
	t.Helper()
	data, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	var tpl struct {
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				Events map[string]struct {
					Type       string `yaml:"Type"`
					Properties struct {
						Pattern map[string]any `yaml:"Pattern"`
					} `yaml:"Properties"`
				} `yaml:"Events"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(data, &tpl); err != nil {
		t.Fatalf("%s: %v", templatePath, err)
	}
	out := map[string]map[string]any{}
	for _, res := range tpl.Resources {
		if res.Type != "AWS::Serverless::Function" {
			continue
		}
		for name, ev := range res.Properties.Events {
			if ev.Type == "EventBridgeRule" {
				out[name] = ev.Properties.Pattern
			}
		}
	}
	return out
}

func loadEvent(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return ev
}

// edit returns a deep copy of the event with f applied to its detail.
func edit(t *testing.T, ev map[string]any, f func(detail map[string]any)) map[string]any {
	t.Helper()
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var cp map[string]any
	if err := json.Unmarshal(data, &cp); err != nil {
		t.Fatal(err)
	}
	f(cp["detail"].(map[string]any))
	return cp
}

func containers(detail map[string]any) []any {
	cs, _ := detail["containers"].([]any)
	return cs
}

// pullFailure is the event's pull-failure text: stoppedReason, or the first
// container reason when stoppedReason only says the task failed to start.
func pullFailure(t *testing.T, ev map[string]any) string {
	t.Helper()
	detail := ev["detail"].(map[string]any)
	if r, _ := detail["stoppedReason"].(string); !strings.HasPrefix(r, "Task failed to start") {
		return r
	}
	for _, c := range containers(detail) {
		if r, _ := c.(map[string]any)["reason"].(string); r != "" {
			return r
		}
	}
	t.Fatalf("event %v has no pull failure", ev["id"])
	return ""
}

// inStoppedReason puts the failure in stoppedReason only (current Fargate).
func inStoppedReason(failure string) func(map[string]any) {
	return func(d map[string]any) {
		d["stoppedReason"] = failure
		for _, c := range containers(d) {
			delete(c.(map[string]any), "reason")
		}
	}
}

// inContainerReason puts the failure only in the last container's reason, behind
// a sidecar without one (older platforms and EC2).
func inContainerReason(failure string) func(map[string]any) {
	return func(d map[string]any) {
		d["stoppedReason"] = "Task failed to start"
		cs := append([]any{map[string]any{"name": "log-router", "lastStatus": "STOPPED"}}, containers(d)...)
		for _, c := range cs {
			delete(c.(map[string]any), "reason")
		}
		cs[len(cs)-1].(map[string]any)["reason"] = failure
		d["containers"] = cs
	}
}

// pullFailureEvents are every sample and scenario event that is a pull failure.
func pullFailureEvents(t *testing.T) []string {
	t.Helper()
	paths := []string{
		"testdata/events/stopped-pull-timeout-service.json",
		"testdata/events/stopped-old-platform-container-reason.json",
		"testdata/events/stopped-ec2-agent-curly-apostrophe.json",
	}
	scenarios, err := filepath.Glob("../examples/scenarios/*/event.json")
	if err != nil {
		t.Fatal(err)
	}
	return append(paths, scenarios...)
}

type patternCase struct {
	name  string
	event map[string]any
	want  bool
}

func runPatternCases(t *testing.T, pattern map[string]any, cases []patternCase) {
	t.Helper()
	if pattern == nil {
		t.Fatal("pattern not found in " + templatePath)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := matchPattern(pattern, c.event)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("match = %v, want %v; detail: %v", got, c.want, c.event["detail"])
			}
		})
	}
}

func TestPullFailurePattern(t *testing.T) {
	for where, pattern := range rulePatterns(t, "PullFailure") {
		t.Run(where, func(t *testing.T) { pullFailurePattern(t, pattern) })
	}
}

func pullFailurePattern(t *testing.T, pattern map[string]any) {
	var cases []patternCase
	for _, path := range pullFailureEvents(t) {
		ev := loadEvent(t, path)
		failure := pullFailure(t, ev)
		name := strings.TrimSuffix(strings.TrimPrefix(path, "../"), ".json")
		cases = append(cases,
			patternCase{name + "/as-is", ev, true},
			patternCase{name + "/stoppedReason", edit(t, ev, inStoppedReason(failure)), true},
			patternCase{name + "/containers.reason", edit(t, ev, inContainerReason(failure)), true},
		)
	}
	if len(cases) < 3*4 {
		t.Fatalf("only %d positive cases: samples or scenarios missing", len(cases))
	}
	// The spec's "match case-insensitively", in both places.
	first := loadEvent(t, pullFailureEvents(t)[0])
	lower := strings.Replace(pullFailure(t, first), "CannotPullContainerError", "cannotpullcontainererror", 1)
	cases = append(cases,
		patternCase{"lower case/stoppedReason", edit(t, first, inStoppedReason(lower)), true},
		patternCase{"lower case/containers.reason", edit(t, first, inContainerReason(lower)), true},
	)

	stopped := loadEvent(t, "testdata/events/stopped-pull-timeout-service.json")
	noPull := func(reason, stopCode string) func(map[string]any) {
		return func(d map[string]any) {
			d["stoppedReason"], d["stopCode"] = reason, stopCode
			for _, c := range containers(d) {
				delete(c.(map[string]any), "reason")
			}
		}
	}
	cases = append(cases,
		patternCase{"running task", loadEvent(t, "testdata/events/running-fargate-docs-sample.json"), false},
		patternCase{"user-stopped task", loadEvent(t, "testdata/events/stopped-user-stop.json"), false},
		patternCase{"essential container exited", edit(t, stopped, func(d map[string]any) {
			noPull("Essential container in task exited", "EssentialContainerExited")(d)
			containers(d)[0].(map[string]any)["exitCode"] = 1
		}), false},
		patternCase{"scaled in by the service", edit(t, stopped,
			noPull("Scaling activity initiated by (deployment ecs-svc/8830144125590311762)", "ServiceSchedulerInitiated")), false},
		patternCase{"log group missing is not a pull failure", edit(t, stopped,
			noPull("ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: "+
				"failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist.",
				"TaskFailedToStart")), false},
		patternCase{"pull failure still deprovisioning", edit(t, stopped, func(d map[string]any) { d["lastStatus"] = "DEPROVISIONING" }), false},
		patternCase{"container instance event", loadEvent(t, "testdata/events/container-instance-state-change.json"), false},
		patternCase{"deployment event", loadEvent(t, "testdata/events/deployment-completed.json"), false},
		patternCase{"service action event", loadEvent(t, "testdata/events/service-steady-state.json"), false},
	)
	otherType, otherSource := edit(t, stopped, func(map[string]any) {}), edit(t, stopped, func(map[string]any) {})
	otherType["detail-type"], otherSource["source"] = "ECS Service Action", "custom.ecs"
	cases = append(cases,
		patternCase{"pull failure under another detail-type", otherType, false},
		patternCase{"pull failure from another source", otherSource, false})
	runPatternCases(t, pattern, cases)
}

func TestDeploymentCompletedPattern(t *testing.T) {
	completed := loadEvent(t, "testdata/events/deployment-completed.json")
	for where, pattern := range rulePatterns(t, "DeploymentCompleted") {
		t.Run(where, func(t *testing.T) { deploymentCompletedPattern(t, pattern, completed) })
	}
}

func deploymentCompletedPattern(t *testing.T, pattern, completed map[string]any) {
	runPatternCases(t, pattern, []patternCase{
		{"completed", completed, true},
		{"failed", edit(t, completed, func(d map[string]any) { d["eventName"] = "SERVICE_DEPLOYMENT_FAILED" }), false},
		{"in progress", edit(t, completed, func(d map[string]any) { d["eventName"] = "SERVICE_DEPLOYMENT_IN_PROGRESS" }), false},
		{"task state change", loadEvent(t, "testdata/events/stopped-pull-timeout-service.json"), false},
		{"service steady state", loadEvent(t, "testdata/events/service-steady-state.json"), false},
	})
}

func TestServiceSteadyStatePattern(t *testing.T) {
	steady := loadEvent(t, "testdata/events/service-steady-state.json")
	otherType := edit(t, steady, func(map[string]any) {})
	otherType["detail-type"] = "ECS Deployment State Change"
	for where, pattern := range rulePatterns(t, "ServiceSteadyState") {
		t.Run(where, func(t *testing.T) { serviceSteadyStatePattern(t, pattern, steady, otherType) })
	}
}

func serviceSteadyStatePattern(t *testing.T, pattern, steady, otherType map[string]any) {
	runPatternCases(t, pattern, []patternCase{
		{"steady state", steady, true},
		{"task placement failure", edit(t, steady, func(d map[string]any) { d["eventName"] = "SERVICE_TASK_PLACEMENT_FAILURE" }), false},
		{"task start impaired", edit(t, steady, func(d map[string]any) { d["eventName"] = "SERVICE_TASK_START_IMPAIRED" }), false},
		{"under another detail-type", otherType, false},
		{"deployment completed", loadEvent(t, "testdata/events/deployment-completed.json"), false},
		{"task state change", loadEvent(t, "testdata/events/stopped-pull-timeout-service.json"), false},
	})
}

// The matcher itself, on the examples of EventBridge's documentation.
func TestMatchPattern(t *testing.T) {
	event := `{"source": "aws.ecs", "detail": {"state": "STOPPED", "count": 5,
		"containers": [{"name": "a"}, {"name": "b", "reason": "CannotPullContainerError: x"}],
		"tags": ["red", "blue"], "meta": {"k": "v"}}}`
	cases := []struct {
		pattern string
		want    bool
	}{
		{`{"source": ["aws.ecs"]}`, true},
		{`{"source": ["aws.ec2", "aws.ecs"]}`, true},
		{`{"source": ["aws.ec2"]}`, false},
		{`{"detail": {"count": [5]}}`, true},
		{`{"detail": {"count": ["5"]}}`, false},
		{`{"detail": {"containers": {"reason": [{"prefix": "CannotPull"}]}}}`, true},
		{`{"detail": {"containers": {"name": ["b"]}}}`, true},
		{`{"detail": {"containers": {"name": ["c"]}}}`, false},
		{`{"detail": {"tags": ["blue"]}}`, true},
		{`{"detail": {"state": [{"prefix": {"equals-ignore-case": "stop"}}]}}`, true},
		{`{"detail": {"state": [{"prefix": "stop"}]}}`, false},
		{`{"detail": {"state": [{"suffix": "PED"}]}}`, true},
		{`{"detail": {"state": [{"equals-ignore-case": "stopped"}]}}`, true},
		{`{"detail": {"state": [{"wildcard": "ST*ED"}]}}`, true},
		{`{"detail": {"state": [{"wildcard": "ST*X*ED"}]}}`, false},
		{`{"detail": {"state": [{"wildcard": "STOPPED*"}]}}`, true},
		{`{"detail": {"state": [{"wildcard": "S\\*"}]}}`, false},
		{`{"detail": {"state": [{"exists": true}]}}`, true},
		{`{"detail": {"missing": [{"exists": false}]}}`, true},
		{`{"detail": {"missing": [{"exists": true}]}}`, false},
		{`{"detail": {"meta": [{"exists": true}]}}`, false}, // exists applies to leaves only
		{`{"detail": {"state": [{"anything-but": "RUNNING"}]}}`, true},
		{`{"detail": {"state": [{"anything-but": ["RUNNING", "STOPPED"]}]}}`, false},
		{`{"detail": {"state": [{"anything-but": {"prefix": "STOP"}}]}}`, false},
		{`{"detail": {"missing": [{"anything-but": "x"}]}}`, false},
		{`{"detail": {"$or": [{"state": ["RUNNING"]}, {"count": [5]}]}}`, true},
		{`{"detail": {"$or": [{"state": ["RUNNING"]}, {"count": [6]}]}}`, false},
		{`{"detail": {"state": ["STOPPED"], "count": [6]}}`, false},
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(event), &ev); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		var p map[string]any
		if err := json.Unmarshal([]byte(c.pattern), &p); err != nil {
			t.Fatalf("%s: %v", c.pattern, err)
		}
		got, err := matchPattern(p, ev)
		if err != nil {
			t.Fatalf("%s: %v", c.pattern, err)
		}
		if got != c.want {
			t.Errorf("%s: match = %v, want %v", c.pattern, got, c.want)
		}
	}
	for _, bad := range []string{
		`{"detail": {"count": [{"numeric": [">", 1]}]}}`,
		`{"detail": {"$or": [{"state": ["x"]}]}}`,
		`{"detail": {"state": "STOPPED"}}`,
		`{"detail": {"state": [{"wildcard": "ST**ED"}]}}`,
	} {
		var p map[string]any
		if err := json.Unmarshal([]byte(bad), &p); err != nil {
			t.Fatal(err)
		}
		if _, err := matchPattern(p, ev); err == nil {
			t.Errorf("%s: want an error for an unsupported pattern", bad)
		}
	}
}
