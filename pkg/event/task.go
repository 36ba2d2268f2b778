// Package event turns an EventBridge "ECS Task State Change" event into a Task:
// the stopped task's identity, network placement, images and the pull failure.
package event

import (
	"regexp"
	"time"
)

// ReasonClass is the family of a pull failure, used to order the search for the cause.
type ReasonClass string

const (
	ClassNetwork  ReasonClass = "network"
	ClassDNS      ReasonClass = "dns"
	ClassIAM      ReasonClass = "iam"
	ClassImage    ReasonClass = "image"
	ClassRegistry ReasonClass = "registry"
	// ClassHost is the pull's own machine: no room to download or unpack the
	// image (the EC2 instance's disk, or a Fargate task's ephemeral storage).
	ClassHost    ReasonClass = "host"
	ClassUnknown ReasonClass = "unknown"
)

// Container is one container of the stopped task as the event reports it.
type Container struct {
	Name  string `json:"name"`
	Image string `json:"image"`
	// ImageDigest is the digest the task was to pull. For a service, ECS
	// resolves the image's tag to a digest at deployment and starts every
	// later task with that digest, even after the tag has moved (ECS API
	// Reference, ContainerImage; Developer Guide, "Container image
	// resolution": https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html#deployment-container-image-stability).
	ImageDigest string `json:"imageDigest,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// Task is what pullmedic knows about a stopped task from its event alone.
type Task struct {
	EventID           string    `json:"eventId,omitempty"`
	Account           string    `json:"account,omitempty"`
	Region            string    `json:"region,omitempty"`
	Time              time.Time `json:"time,omitzero"`
	TaskArn           string    `json:"taskArn"`
	ClusterArn        string    `json:"clusterArn"`
	TaskDefinitionArn string    `json:"taskDefinitionArn"`
	Group             string    `json:"group,omitempty"` // "service:NAME" or "family:NAME"
	Service           string    `json:"service,omitempty"`
	StartedBy         string    `json:"startedBy,omitempty"`
	LaunchType        string    `json:"launchType,omitempty"`
	PlatformVersion   string    `json:"platformVersion,omitempty"`
	LastStatus        string    `json:"lastStatus,omitempty"`
	StopCode          string    `json:"stopCode,omitempty"`
	StoppedReason     string    `json:"stoppedReason,omitempty"`
	SubnetID          string    `json:"subnetId,omitempty"`
	ENIID             string    `json:"eniId,omitempty"`
	PrivateIP         string    `json:"privateIp,omitempty"`
	// ContainerInstanceArn names the EC2 (or external) host of a task that
	// is not on Fargate: there the agent pulls over the host's network.
	ContainerInstanceArn string      `json:"containerInstanceArn,omitempty"`
	Containers           []Container `json:"containers,omitempty"`

	// Failure is the pull-failure text: stoppedReason, or the first container
	// reason when stoppedReason is only "Task failed to start".
	Failure string `json:"failure,omitempty"`
	// FailedContainer names the container whose image failed, when known.
	FailedContainer string      `json:"failedContainer,omitempty"`
	Class           ReasonClass `json:"class,omitempty"`
	// FailedHost is the host (or IP) the failed connection named, if any.
	FailedHost string `json:"failedHost,omitempty"`
}

// ClusterName returns the last path element of the cluster ARN.
func (t *Task) ClusterName() string { return lastPart(t.ClusterArn) }

// TaskID returns the last path element of the task ARN.
func (t *Task) TaskID() string { return lastPart(t.TaskArn) }

// Images lists the distinct container images, in container order.
func (t *Task) Images() []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range t.Containers {
		if c.Image != "" && !seen[c.Image] {
			seen[c.Image] = true
			out = append(out, c.Image)
		}
	}
	return out
}

func lastPart(arn string) string {
	for i := len(arn) - 1; i >= 0; i-- {
		if arn[i] == '/' {
			return arn[i+1:]
		}
	}
	return arn
}

// reRefDigest finds an image reference pinned to a digest in a stop reason
// ("failed to resolve ref REPO:TAG@sha256:…: not found"). Layer and blob
// digests ("layer sha256:…", "/blobs/sha256:…") carry no '@': they are not
// the image's.
var reRefDigest = regexp.MustCompile(`@(sha256:[0-9a-f]{64})(?:[^0-9a-f]|$)`)

// PulledDigest returns the digest the task was to pull for the named
// container: the event's imageDigest, else the digest the stop reason pins
// when that container is the one that failed; "" when neither says.
func (t *Task) PulledDigest(container string) string {
	for _, c := range t.Containers {
		if c.Name == container && reDigest.MatchString(c.ImageDigest) {
			return c.ImageDigest
		}
	}
	if container != "" && container == t.FailedContainer {
		if m := reRefDigest.FindStringSubmatch(t.Failure); m != nil {
			return m[1]
		}
	}
	return ""
}
