package fix

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
)

// Grounding. Remediate is invoked with an event, and anyone who may invoke
// the function can write one. So the event names only who to look at: the
// cluster, the task and its service. Everything a write depends on comes
// from what ECS and EC2 say now, and every other field of the event is a
// hint that must agree with them, or nothing is changed.

// stoppedTaskVisible is how long ECS keeps describing a stopped task: "at
// least one hour" (Amazon ECS Developer Guide, "Stopped task error codes"
// and DescribeTasks). An event that says its task stopped more recently
// than this, for a task ECS does not know, names a task that never was.
const stoppedTaskVisible = 50 * time.Minute

// Refusal is a request that live state does not bear out. Retrying cannot
// change it, so it is reported, counted, and not returned as an error.
type Refusal struct{ Reason string }

func (r *Refusal) Error() string { return "refused: " + r.Reason }

func refuse(format string, args ...any) error {
	return &Refusal{Reason: fmt.Sprintf(format, args...)}
}

// asRefusal returns err's Refusal, or nil.
func asRefusal(err error) *Refusal {
	var r *Refusal
	if errors.As(err, &r) {
		return r
	}
	return nil
}

// ground checks the facts collected for a request's task against the
// request's hints. It returns nil when the task may be remediated: its
// service exists and is active, and the task either is described by ECS as
// stopped by a pull failure with the placement the event claims, or has aged
// out, in which case only the service's own configuration is used. A read
// that failed is an error (retry), a disagreement a Refusal.
func ground(f *account.Facts, now time.Time) error {
	t := f.Task
	if msg := f.Err(account.SrcTask, account.SrcService, account.SrcCluster); msg != "" {
		return fmt.Errorf("read the task's identity: %s", msg)
	}
	if t.Service == "" {
		return refuse("task %s is not a service's task (group %q): pullmedic fixes only services", t.TaskArn, t.Group)
	}
	svc := f.Service()
	// A hand-written snapshot may leave the status out; AWS always sets it.
	if svc == nil || aws.ToString(svc.Status) != "" && aws.ToString(svc.Status) != "ACTIVE" {
		return refuse("service %s is not an active service of cluster %s", t.Service, t.ClusterArn)
	}
	if c := aws.ToString(svc.ClusterArn); c != "" && c != t.ClusterArn {
		return refuse("service %s belongs to %s, not to %s", t.Service, c, t.ClusterArn)
	}
	cfg := serviceNetwork(svc)
	if cfg == nil || len(cfg.Subnets) == 0 || len(cfg.SecurityGroups) == 0 {
		return refuse("service %s has no awsvpc network configuration to ground a fix in", t.Service)
	}
	if live := f.TaskDescription(); live != nil {
		if err := sameTask(t, live); err != nil {
			return err
		}
	} else if !t.Time.IsZero() && now.Sub(t.Time) < stoppedTaskVisible {
		return refuse("ECS does not know task %s, which the event says stopped at %s: a task stopped this recently would still be described",
			t.TaskArn, t.Time.UTC().Format(time.RFC3339))
	}
	if !slices.Contains(cfg.Subnets, t.SubnetID) {
		return refuse("the event's subnet %q is not one of service %s's subnets %v", t.SubnetID, t.Service, cfg.Subnets)
	}
	if eni := f.NetworkInterface(t.ENIID); eni != nil {
		if s := aws.ToString(eni.SubnetId); s != t.SubnetID {
			return refuse("network interface %s is in %s, not in the event's subnet %s", t.ENIID, s, t.SubnetID)
		}
		for _, g := range eni.Groups {
			if id := aws.ToString(g.GroupId); !slices.Contains(cfg.SecurityGroups, id) {
				return refuse("network interface %s has security group %s, which service %s does not use %v", t.ENIID, id, t.Service, cfg.SecurityGroups)
			}
		}
	}
	return nil
}

// sameTask checks the event's claims against ECS's description of the task.
func sameTask(t *event.Task, live *ecstypes.Task) error {
	if s := aws.ToString(live.LastStatus); s != "STOPPED" {
		return refuse("task %s is %s, not STOPPED", t.TaskArn, s)
	}
	if !pulledAndFailed(live) {
		return refuse("task %s did not stop for an image pull failure (ECS says %q)", t.TaskArn, aws.ToString(live.StoppedReason))
	}
	for _, c := range []struct{ what, event, live string }{
		{"cluster", t.ClusterArn, aws.ToString(live.ClusterArn)},
		{"group", t.Group, aws.ToString(live.Group)},
		{"task definition", t.TaskDefinitionArn, aws.ToString(live.TaskDefinitionArn)},
		{"subnet", t.SubnetID, attachmentDetail(live, "subnetId")},
		{"network interface", t.ENIID, attachmentDetail(live, "networkInterfaceId")},
	} {
		if c.event != c.live {
			return refuse("the event's %s %q is not the task's: ECS says %q", c.what, c.event, c.live)
		}
	}
	return nil
}

// pulledAndFailed reports whether ECS's own stop reasons name a pull failure.
func pulledAndFailed(live *ecstypes.Task) bool {
	if event.IsPullFailure(aws.ToString(live.StoppedReason)) {
		return true
	}
	return slices.ContainsFunc(live.Containers, func(c ecstypes.Container) bool { return event.IsPullFailure(aws.ToString(c.Reason)) })
}

// attachmentDetail is a detail of the task's ENI attachment, or "".
func attachmentDetail(live *ecstypes.Task, name string) string {
	for _, a := range live.Attachments {
		if !strings.EqualFold(aws.ToString(a.Type), "ElasticNetworkInterface") && aws.ToString(a.Type) != "eni" {
			continue
		}
		for _, kv := range a.Details {
			if aws.ToString(kv.Name) == name {
				return aws.ToString(kv.Value)
			}
		}
	}
	return ""
}

// serviceNetwork is a service's awsvpc configuration, or nil.
func serviceNetwork(svc *ecstypes.Service) *ecstypes.AwsVpcConfiguration {
	if svc == nil || svc.NetworkConfiguration == nil {
		return nil
	}
	return svc.NetworkConfiguration.AwsvpcConfiguration
}
