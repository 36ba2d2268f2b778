package event

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseDeployment(t *testing.T) {
	data, err := os.ReadFile("testdata/deployment/completed.json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseDeployment(data)
	if err != nil {
		t.Fatal(err)
	}
	want := Deployment{
		EventID: "ddca6449-b258-46c0-8653-e0e3a6d0c9a1", Region: "eu-west-1",
		Time:       time.Date(2026, 10, 2, 15, 10, 4, 0, time.UTC),
		ServiceArn: "arn:aws:ecs:eu-west-1:210987654321:service/payments/payments-api",
		Cluster:    "payments", Service: "payments-api", EventName: DeploymentCompleted,
		DeploymentID: "ecs-svc/8830144125590311762", Reason: "ECS deployment ecs-svc/8830144125590311762 completed.",
	}
	if *d != want {
		t.Fatalf("ParseDeployment =\n%+v\nwant\n%+v", *d, want)
	}
	if got := DetailType(data); got != DetailTypeDeployment {
		t.Fatalf("DetailType = %q", got)
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
		{"a task event", edit("ECS Deployment State Change", "ECS Task State Change"), "not a deployment event"},
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
	if data, err := os.ReadFile("testdata/deployment/completed.json"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`{"detail-type":"ECS Deployment State Change","source":"aws.ecs","resources":["arn:aws:ecs:r:a:service//"],"detail":{"eventName":"X"}}`))
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
