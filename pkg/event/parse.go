package event

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNothingToDiagnose marks a well-formed stopped-task event whose stop was not a pull failure.
var ErrNothingToDiagnose = errors.New("nothing to diagnose: the task did not stop for an image pull failure")

// InputError is a malformed or unsupported event. It is the user's input, not a fault of ours.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func inputErrorf(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}

const (
	wantDetailType = "ECS Task State Change"
	wantSource     = "aws.ecs"
)

// envelope is the part of the EventBridge event pullmedic reads; other keys are ignored.
type envelope struct {
	ID         string  `json:"id"`
	DetailType string  `json:"detail-type"`
	Source     string  `json:"source"`
	Account    string  `json:"account"`
	Time       string  `json:"time"`
	Region     string  `json:"region"`
	Detail     *detail `json:"detail"`
}

type detail struct {
	TaskArn              string       `json:"taskArn"`
	ClusterArn           string       `json:"clusterArn"`
	TaskDefinitionArn    string       `json:"taskDefinitionArn"`
	Group                string       `json:"group"`
	StartedBy            string       `json:"startedBy"`
	LaunchType           string       `json:"launchType"`
	PlatformVersion      string       `json:"platformVersion"`
	LastStatus           string       `json:"lastStatus"`
	StopCode             string       `json:"stopCode"`
	StoppedReason        string       `json:"stoppedReason"`
	ContainerInstanceArn string       `json:"containerInstanceArn"`
	Attachments          []attachment `json:"attachments"`
	Containers           []Container  `json:"containers"`
}

type attachment struct {
	Type    string `json:"type"`
	Details []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"details"`
}

// Parse reads an EventBridge "ECS Task State Change" envelope.
// It returns *InputError for malformed or unsupported events and
// ErrNothingToDiagnose (with the parsed task) for stops that are not pull failures.
func Parse(data []byte) (*Task, error) {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, jsonInputError(err)
	}
	if env.DetailType != wantDetailType || env.Source != wantSource {
		return nil, inputErrorf("event: detail-type %q from source %q is not supported: pullmedic reads %q events from %q, as EventBridge delivers them",
			env.DetailType, env.Source, wantDetailType, wantSource)
	}
	d := env.Detail
	if d == nil {
		return nil, inputErrorf("event: no detail object")
	}
	if !strings.HasPrefix(d.TaskArn, "arn:") {
		return nil, inputErrorf("event: detail.taskArn is missing or not an ARN: %q", d.TaskArn)
	}
	if !strings.HasPrefix(d.ClusterArn, "arn:") {
		return nil, inputErrorf("event: detail.clusterArn is missing or not an ARN: %q", d.ClusterArn)
	}
	if d.ContainerInstanceArn != "" && !strings.HasPrefix(d.ContainerInstanceArn, "arn:") {
		return nil, inputErrorf("event: detail.containerInstanceArn is not an ARN: %q", d.ContainerInstanceArn)
	}
	if d.LastStatus != "STOPPED" {
		return nil, inputErrorf("event: task lastStatus is %q: pullmedic only diagnoses stopped tasks (lastStatus STOPPED)", d.LastStatus)
	}

	at, err := parseTime(env.Time)
	if err != nil {
		return nil, err
	}
	t := &Task{
		EventID:              env.ID,
		Account:              env.Account,
		Region:               env.Region,
		Time:                 at,
		TaskArn:              d.TaskArn,
		ClusterArn:           d.ClusterArn,
		TaskDefinitionArn:    d.TaskDefinitionArn,
		Group:                d.Group,
		StartedBy:            d.StartedBy,
		LaunchType:           d.LaunchType,
		PlatformVersion:      d.PlatformVersion,
		LastStatus:           d.LastStatus,
		StopCode:             d.StopCode,
		StoppedReason:        strings.TrimSpace(d.StoppedReason),
		ContainerInstanceArn: d.ContainerInstanceArn,
		Containers:           d.Containers,
	}
	// The ARN (arn:PARTITION:ecs:REGION:ACCOUNT:task/...) fills what the envelope lacks.
	if parts := strings.Split(d.TaskArn, ":"); len(parts) >= 6 {
		t.Region = cmp.Or(t.Region, parts[3])
		t.Account = cmp.Or(t.Account, parts[4])
	}
	if name, ok := strings.CutPrefix(d.Group, "service:"); ok {
		t.Service = name
	}
	for i := range t.Containers {
		t.Containers[i].Reason = strings.TrimSpace(t.Containers[i].Reason)
	}
	fillNetwork(t, d.Attachments)
	pickFailure(t)
	if !IsPullFailure(t.Failure) {
		t.Class = ClassUnknown
		return t, ErrNothingToDiagnose
	}
	t.Class, t.FailedHost = Classify(t.Failure)
	return t, nil
}

// fillNetwork reads the task ENI's placement from its attachment.
func fillNetwork(t *Task, atts []attachment) {
	for _, a := range atts {
		if a.Type != "eni" && a.Type != "ElasticNetworkInterface" {
			continue
		}
		for _, kv := range a.Details {
			switch kv.Name {
			case "subnetId":
				t.SubnetID = kv.Value
			case "networkInterfaceId":
				t.ENIID = kv.Value
			case "privateIPv4Address":
				t.PrivateIP = kv.Value
			}
		}
		return
	}
}

// pickFailure sets Failure and FailedContainer. Older platforms and EC2 only say
// "Task failed to start" and put the pull error on the container.
func pickFailure(t *Task) {
	t.Failure = t.StoppedReason
	generic := t.Failure == "" || strings.EqualFold(t.Failure, "Task failed to start")
	for _, c := range t.Containers {
		if IsPullFailure(c.Reason) {
			t.FailedContainer = c.Name
			if generic {
				t.Failure = c.Reason
			}
			return
		}
	}
	// Current Fargate names the image in stoppedReason instead.
	if !IsPullFailure(t.Failure) {
		return
	}
	for _, c := range t.Containers {
		if namesImage(t.Failure, c.Image) {
			t.FailedContainer = c.Name
			return
		}
	}
	// A task with a single image can only have failed to pull that one.
	if images := t.Images(); len(images) == 1 {
		for _, c := range t.Containers {
			if c.Image == images[0] {
				t.FailedContainer = c.Name
				return
			}
		}
	}
}

// namesImage reports whether a failure text names an image: as written in the
// task definition, or as the registry API path (/v2/REPOSITORY/) that
// containerd quotes in its request URLs.
func namesImage(failure, image string) bool {
	if image == "" {
		return false
	}
	if strings.Contains(failure, image) {
		return true
	}
	ref, err := ParseImageRef(image)
	return err == nil && strings.Contains(failure, "/v2/"+ref.Repository+"/")
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return at, inputErrorf("event: field time: %q is not an RFC 3339 timestamp", s)
	}
	return at, nil
}

// jsonInputError turns a decoding error into an InputError that says where the input is wrong.
func jsonInputError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return inputErrorf("event: invalid JSON at byte offset %d: %v", syn.Offset, err)
	case errors.As(err, &typ) && typ.Field == "":
		return inputErrorf("event: expected a JSON object, got %s", typ.Value)
	case errors.As(err, &typ):
		return inputErrorf("event: field %s: expected %s, got %s (byte offset %d)", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value, typ.Offset)
	default:
		return inputErrorf("event: invalid JSON: %v", err)
	}
}

// jsonKind names a Go kind the way a JSON author would.
func jsonKind(kind string) string {
	switch kind {
	case "slice", "array":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	default:
		return kind
	}
}
