package event

import (
	"cmp"
	"encoding/json"
	"strings"
	"time"
)

// DetailTypeDeployment is the detail-type of ECS service deployment events.
const DetailTypeDeployment = "ECS Deployment State Change"

// DetailTypeServiceAction is the detail-type of ECS service action events.
const DetailTypeServiceAction = "ECS Service Action"

// DeploymentCompleted is the eventName of a deployment whose tasks run and are healthy.
const DeploymentCompleted = "SERVICE_DEPLOYMENT_COMPLETED"

// ServiceSteadyState is the service action eventName of a service that runs
// its desired count of healthy tasks. It is the only sign of recovery when a
// fix outside a deployment (a security group, an endpoint) lets tasks start.
const ServiceSteadyState = "SERVICE_STEADY_STATE"

// Deployment is an EventBridge "ECS Deployment State Change" or "ECS Service
// Action" event: a service event that may say the service recovered.
type Deployment struct {
	EventID      string    `json:"eventId"`
	Region       string    `json:"region"`
	Time         time.Time `json:"time,omitzero"`
	ServiceArn   string    `json:"serviceArn"`
	Cluster      string    `json:"cluster"` // cluster name
	Service      string    `json:"service"` // service name
	EventName    string    `json:"eventName"`
	DeploymentID string    `json:"deploymentId,omitempty"`
	Reason       string    `json:"reason,omitempty"`
}

// Recovered reports whether the event says the service's tasks run again.
// Every other eventName is well-formed but leaves nothing to do.
func (d *Deployment) Recovered() bool {
	return d.EventName == DeploymentCompleted || d.EventName == ServiceSteadyState
}

// DetailType returns an EventBridge envelope's detail-type, or "" when the
// input is not a JSON object that has one.
func DetailType(data []byte) string {
	var env struct {
		DetailType string `json:"detail-type"`
	}
	if json.Unmarshal(data, &env) != nil {
		return ""
	}
	return env.DetailType
}

// ParseDeployment reads an "ECS Deployment State Change" or "ECS Service
// Action" envelope (a service action has no deploymentId or reason). It
// returns *InputError for malformed events, and for service ARNs in the old
// format (service/NAME), which do not name the cluster.
func ParseDeployment(data []byte) (*Deployment, error) {
	var env struct {
		ID         string   `json:"id"`
		DetailType string   `json:"detail-type"`
		Source     string   `json:"source"`
		Time       string   `json:"time"`
		Region     string   `json:"region"`
		Resources  []string `json:"resources"`
		Detail     *struct {
			EventName    string `json:"eventName"`
			DeploymentID string `json:"deploymentId"`
			Reason       string `json:"reason"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, jsonInputError(err)
	}
	if env.DetailType != DetailTypeDeployment && env.DetailType != DetailTypeServiceAction || env.Source != wantSource {
		return nil, inputErrorf("event: detail-type %q from source %q is not a service event (%q or %q from %q)",
			env.DetailType, env.Source, DetailTypeDeployment, DetailTypeServiceAction, wantSource)
	}
	if env.Detail == nil || env.Detail.EventName == "" {
		return nil, inputErrorf("event: service event without detail.eventName")
	}
	if len(env.Resources) == 0 {
		return nil, inputErrorf("event: service event without resources: the service ARN is missing")
	}
	arn := env.Resources[0]
	// arn:PARTITION:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "ecs" {
		return nil, inputErrorf("event: resources[0] is not an ECS service ARN: %q", arn)
	}
	path := strings.Split(parts[5], "/")
	if len(path) != 3 || path[0] != "service" || path[1] == "" || path[2] == "" {
		return nil, inputErrorf("event: %q is not a service ARN of the form service/CLUSTER/SERVICE", arn)
	}
	at, err := parseTime(env.Time)
	if err != nil {
		return nil, err
	}
	return &Deployment{
		EventID:      env.ID,
		Region:       cmp.Or(env.Region, parts[3]),
		Time:         at,
		ServiceArn:   arn,
		Cluster:      path[1],
		Service:      path[2],
		EventName:    env.Detail.EventName,
		DeploymentID: env.Detail.DeploymentID,
		Reason:       env.Detail.Reason,
	}, nil
}
