package event

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseDeployment(t *testing.T) {
	arn := "arn:aws:ecs:eu-west-1:210987654321:service/payments/payments-api"
	completed := Deployment{
		EventID: "ddca6449-b258-46c0-8653-e0e3a6d0c9a1", Region: "eu-west-1",
		Time:       time.Date(2026, 10, 2, 15, 10, 4, 0, time.UTC),
		ServiceArn: arn, Cluster: "payments", Service: "payments-api", EventName: DeploymentCompleted,
		DeploymentID: "ecs-svc/8830144125590311762", Reason: "ECS deployment ecs-svc/8830144125590311762 completed.",
	}
	steady := Deployment{
		EventID: "5b1f3e0a-7c2d-4e8f-9a61-0d4c2b7e9f13", Region: "eu-west-1",
		Time:       time.Date(2026, 10, 2, 16, 42, 37, 0, time.UTC),
		ServiceArn: arn, Cluster: "payments", Service: "payments-api", EventName: ServiceSteadyState,
	}
	// Each fixture as it is, then with another eventName: well-formed, nothing to do.
	cases := []struct {
		file, detailType string
		base             Deployment
		eventName        string
		recovered        bool
	}{
		{"completed.json", DetailTypeDeployment, completed, DeploymentCompleted, true},
		{"completed.json", DetailTypeDeployment, completed, "SERVICE_DEPLOYMENT_IN_PROGRESS", false},
		{"service-steady-state.json", DetailTypeServiceAction, steady, ServiceSteadyState, true},
		{"service-steady-state.json", DetailTypeServiceAction, steady, "SERVICE_TASK_PLACEMENT_FAILURE", false},
	}
	for _, c := range cases {
		t.Run(c.eventName, func(t *testing.T) {
			data, err := os.ReadFile("testdata/deployment/" + c.file)
			if err != nil {
				t.Fatal(err)
			}
			data = []byte(strings.Replace(string(data), c.base.EventName, c.eventName, 1))
			want := c.base
			want.EventName = c.eventName
			d, err := ParseDeployment(data)
			if err != nil {
				t.Fatal(err)
			}
			if *d != want {
				t.Fatalf("ParseDeployment =\n%+v\nwant\n%+v", *d, want)
			}
			if d.Recovered() != c.recovered {
				t.Fatalf("Recovered = %v; want %v", d.Recovered(), c.recovered)
			}
			if got := DetailType(data); got != c.detailType {
				t.Fatalf("DetailType = %q; want %q", got, c.detailType)
			}
		})
	}
}

func TestParseDeploymentRefuses(t *testing.T) {
	valid, err := os.ReadFile("testdata/deployment/completed.json")
	if err != nil {
		t.Fatal(err)
	}
	edit := func(old, new string) string { return strings.Replace(string(valid), old, new, 1) }
	cases := []struct {
		name, input, wantMsg string
	}{
		{"not JSON", "{", "invalid JSON"},
		{"an array", "[]", "expected a JSON object"},
		{"a task event", edit("ECS Deployment State Change", "ECS Task State Change"), "not a service event"},
		{"another source", edit(`"aws.ecs"`, `"custom.ecs"`), "not a service event"},
		{"no detail", edit(`"detail": {`, `"detail-x": {`), "without detail.eventName"},
		{"no resources", edit(`"resources": ["arn:aws:ecs:eu-west-1:210987654321:service/payments/payments-api"]`, `"resources": []`), "without resources"},
		{"old service ARN", edit("service/payments/payments-api", "service/payments-api"), "service/CLUSTER/SERVICE"},
		{"not an ECS ARN", edit("arn:aws:ecs:eu-west-1:210987654321:service/payments/payments-api", "payments-api"), "not an ECS service ARN"},
		{"bad time", edit("2026-10-02T15:10:04Z", "yesterday"), "RFC 3339"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := ParseDeployment([]byte(c.input))
			var ie *InputError
			if !errors.As(err, &ie) || !strings.Contains(ie.Msg, c.wantMsg) || d != nil {
				t.Fatalf("ParseDeployment = %+v, %v; want an InputError containing %q", d, err, c.wantMsg)
			}
		})
	}
}

func FuzzParseDeployment(f *testing.F) {
	for _, name := range []string{"completed.json", "service-steady-state.json"} {
		if data, err := os.ReadFile("testdata/deployment/" + name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"detail-type":"ECS Deployment State Change","source":"aws.ecs","resources":["arn:aws:ecs:r:a:service//"],"detail":{"eventName":"X"}}`))
	f.Add([]byte(`{"detail-type":"ECS Service Action","source":"aws.ecs","resources":["arn:aws:ecs:r:a:service/c/s"],"detail":{"eventName":"SERVICE_STEADY_STATE"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDeployment(data)
		var ie *InputError
		switch {
		case errors.As(err, &ie):
			if d != nil || ie.Msg == "" {
				t.Fatalf("refusal %q came with %+v", ie.Msg, d)
			}
		case err == nil:
			if d.Cluster == "" || d.Service == "" || d.EventName == "" {
				t.Fatalf("accepted a deployment without cluster, service or event name: %+v", d)
			}
		default:
			t.Fatalf("unexpected error type %T: %v", err, err)
		}
	})
}
