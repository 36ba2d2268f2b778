package event

import "testing"

func TestPulledDigest(t *testing.T) {
	const (
		pinned = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
		other  = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
		image  = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/web:stable"
	)
	notFound := "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref " +
		image + "@" + pinned + ": " + image + "@" + pinned + ": not found"
	web := Container{Name: "web", Image: image}
	withDigest := Container{Name: "web", Image: image, ImageDigest: other}
	sidecar := Container{Name: "log", Image: "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable", ImageDigest: pinned}
	tests := []struct {
		name      string
		task      Task
		container string
		want      string
	}{
		{"event digest", Task{Containers: []Container{withDigest}}, "web", other},
		{"event digest wins over the stop reason", Task{Containers: []Container{withDigest}, FailedContainer: "web", Failure: notFound}, "web", other},
		{"stop reason pins the failed container", Task{Containers: []Container{web}, FailedContainer: "web", Failure: notFound}, "web", pinned},
		{"stop reason digest at the end", Task{Containers: []Container{web}, FailedContainer: "web", Failure: "failed to resolve ref " + image + "@" + pinned}, "web", pinned},
		{"stop reason says nothing of another container", Task{Containers: []Container{web, {Name: "log"}}, FailedContainer: "web", Failure: notFound}, "log", ""},
		{"no failed container, no attribution", Task{Containers: []Container{web}, Failure: notFound}, "web", ""},
		{"another container's event digest", Task{Containers: []Container{web, sidecar}}, "web", ""},
		{"layer digest is not the image's", Task{Containers: []Container{web}, FailedContainer: "web",
			Failure: "CannotPullContainerError: failed to extract layer " + pinned + ": no space left on device"}, "web", ""},
		{"blob URL digest is not the image's", Task{Containers: []Container{web}, FailedContainer: "web",
			Failure: "unexpected status code https://registry-1.docker.io/v2/library/nginx/blobs/" + pinned + ": 504 Gateway Time-out"}, "web", ""},
		{"console-truncated digest", Task{Containers: []Container{web}, FailedContainer: "web", Failure: "failed to resolve ref " + image + "@" + pinned[:40] + "..."}, "web", ""},
		{"malformed event digest", Task{Containers: []Container{{Name: "web", Image: image, ImageDigest: "sha256:xyz"}}}, "web", ""},
		{"no container named", Task{Containers: []Container{withDigest}, FailedContainer: "", Failure: notFound}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.task.PulledDigest(tc.container); got != tc.want {
				t.Errorf("PulledDigest(%q) = %q, want %q", tc.container, got, tc.want)
			}
		})
	}
}

// The event's containers[].imageDigest reaches the task.
func TestParseReadsImageDigest(t *testing.T) {
	const digest = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
	data := []byte(`{"detail-type": "ECS Task State Change", "source": "aws.ecs", "account": "111122223333", "region": "eu-west-1",
  "detail": {"taskArn": "arn:aws:ecs:eu-west-1:111122223333:task/shop/0f1e", "clusterArn": "arn:aws:ecs:eu-west-1:111122223333:cluster/shop",
    "lastStatus": "STOPPED", "group": "service:web",
    "stoppedReason": "CannotPullContainerError: failed to resolve ref 111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/web:stable@` + digest + `: not found",
    "containers": [{"name": "web", "image": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/web:stable", "imageDigest": "` + digest + `"}]}}`)
	task, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if got := task.Containers[0].ImageDigest; got != digest {
		t.Errorf("imageDigest = %q, want %q", got, digest)
	}
	if got := task.PulledDigest("web"); got != digest {
		t.Errorf("PulledDigest = %q, want %q", got, digest)
	}
}
