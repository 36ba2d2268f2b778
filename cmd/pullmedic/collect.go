package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
)

var collectCmd = &command{
	name:     "collect",
	synopsis: "--event EVENT.json|- | --cluster NAME --task ID [--region R]   --out SNAP.json|-",
	summary:  "save the account resources one task touches as an offline snapshot",
	details: `Reads, from the live account, everything a diagnosis of the task needs and
writes it as a pullmedic.snapshot/v1 file. "diagnose --snapshot" then works
on it offline: for bug reports, support hand-offs and tests. The task comes
from its stop event, or from DescribeTasks with --cluster and --task (a
stopped task stays visible there for about an hour).

Examples:
  pullmedic collect --event event.json --out snapshot.json
  pullmedic collect --cluster shop --task 0f3c9a2b7d4e4b5f8a1c2d3e4f5a6b7c --region eu-west-1 --out snapshot.json`,
	define: func(fs *flag.FlagSet) func(context.Context, *cli) error {
		var cl collection
		fs.StringVar(&cl.event, "event", "", "EventBridge `EVENT.json` of the task, or - for standard input")
		fs.StringVar(&cl.cluster, "cluster", "", "cluster `NAME` or ARN (with --task, instead of --event)")
		fs.StringVar(&cl.task, "task", "", "task `ID` or ARN (with --cluster)")
		fs.StringVar(&cl.region, "region", "", "AWS `region`, instead of the event's or the default configuration's")
		cl.role.addFlag(fs)
		fs.StringVar(&cl.out, "out", "", "write the snapshot to `SNAP.json`, or - for standard output (required)")
		return cl.run
	},
}

type collection struct {
	event, cluster, task, region, out string
	role
}

func (cl *collection) run(ctx context.Context, c *cli) error {
	byID := cl.cluster != "" || cl.task != ""
	switch {
	case cl.out == "":
		return usagef("--out is required")
	case cl.event != "" && byID:
		return usagef("give --event, or --cluster and --task, not both")
	case cl.event == "" && (cl.cluster == "" || cl.task == ""):
		return usagef("give --event, or both --cluster and --task")
	}
	task, cfg, err := cl.target(ctx, c)
	if err != nil {
		return err
	}
	c.progressf("collecting from account %s in %s…", task.Account, cfg.Region)
	facts, err := account.NewLive(cfg).Collect(ctx, task)
	if err != nil {
		return fmt.Errorf("collecting the account: %w", err)
	}
	snap := facts.Snapshot
	snap.Schema = account.SchemaV1
	snap.Account = task.Account
	snap.Region = cfg.Region
	data, err := snap.Marshal()
	if err != nil {
		return fmt.Errorf("encoding the snapshot: %w", err)
	}
	if cl.out == "-" {
		_, err = c.stdout.Write(data)
		return err
	}
	if err := os.WriteFile(cl.out, data, 0o644); err != nil {
		return err
	}
	c.progressf("wrote %s (%d bytes)", cl.out, len(data))
	return nil
}

// target finds the task to collect for, and the AWS configuration to read its account with.
func (cl *collection) target(ctx context.Context, c *cli) (*event.Task, aws.Config, error) {
	var task *event.Task
	if cl.event != "" {
		var err error
		// A stop that is not a pull failure can still be collected.
		if task, err = readEvent(c, cl.event); err != nil && !errors.Is(err, event.ErrNothingToDiagnose) {
			return nil, aws.Config{}, err
		}
	}
	region := cl.region
	if region == "" && task != nil {
		region = task.Region
	}
	acct := cmp.Or(arnPart(cl.task).AccountID, arnPart(cl.cluster).AccountID)
	if task != nil {
		acct = task.Account
	}
	cfg, err := cl.role.config(ctx, region, acct)
	if err != nil {
		return nil, aws.Config{}, err
	}
	if task == nil {
		c.progressf("describing task %s in cluster %s…", cl.task, cl.cluster)
		if task, err = describeTask(ctx, ecs.NewFromConfig(cfg), cfg.Region, cl.cluster, cl.task); err != nil {
			return nil, aws.Config{}, err
		}
	}
	task.Region = cfg.Region // the live view reads in the task's region
	return task, cfg, nil
}

// ecsTasks is the part of the ECS client describeTask needs.
type ecsTasks interface {
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, opts ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
}

// describeTask reads the task and turns it into the event the parser knows, so a
// task found by ID is understood exactly like one announced by EventBridge.
func describeTask(ctx context.Context, api ecsTasks, region, cluster, id string) (*event.Task, error) {
	out, err := api.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{id}})
	if err != nil {
		return nil, fmt.Errorf("describing task %s: %w", id, err)
	}
	if len(out.Tasks) == 0 {
		reason := "not found"
		if len(out.Failures) > 0 {
			reason = aws.ToString(out.Failures[0].Reason)
		}
		return nil, fmt.Errorf("task %s in cluster %s: %s", id, cluster, reason)
	}
	data, err := json.Marshal(taskEvent(out.Tasks[0], region))
	if err != nil {
		return nil, err
	}
	task, err := event.Parse(data)
	switch {
	case errors.Is(err, event.ErrNothingToDiagnose):
		return task, nil
	case err != nil:
		return nil, fmt.Errorf("task %s: %w", id, err)
	}
	return task, nil
}

// taskEvent wraps a DescribeTasks task in an "ECS Task State Change" envelope.
func taskEvent(t ecstypes.Task, region string) map[string]any {
	var attachments []map[string]any
	for _, a := range t.Attachments {
		var details []map[string]string
		for _, d := range a.Details {
			details = append(details, map[string]string{"name": aws.ToString(d.Name), "value": aws.ToString(d.Value)})
		}
		attachments = append(attachments, map[string]any{"id": aws.ToString(a.Id), "type": aws.ToString(a.Type), "status": aws.ToString(a.Status), "details": details})
	}
	var containers []map[string]string
	for _, ct := range t.Containers {
		containers = append(containers, map[string]string{"name": aws.ToString(ct.Name), "image": aws.ToString(ct.Image), "reason": aws.ToString(ct.Reason), "lastStatus": aws.ToString(ct.LastStatus)})
	}
	arn := aws.ToString(t.TaskArn)
	return map[string]any{
		"version":     "0",
		"detail-type": "ECS Task State Change",
		"source":      "aws.ecs",
		"account":     arnAccount(arn),
		"region":      region,
		"resources":   []string{arn},
		"detail": map[string]any{
			"taskArn":           arn,
			"clusterArn":        aws.ToString(t.ClusterArn),
			"taskDefinitionArn": aws.ToString(t.TaskDefinitionArn),
			"group":             aws.ToString(t.Group),
			"startedBy":         aws.ToString(t.StartedBy),
			"launchType":        string(t.LaunchType),
			"platformVersion":   aws.ToString(t.PlatformVersion),
			"lastStatus":        aws.ToString(t.LastStatus),
			"desiredStatus":     aws.ToString(t.DesiredStatus),
			"stopCode":          string(t.StopCode),
			"stoppedReason":     aws.ToString(t.StoppedReason),
			"attachments":       attachments,
			"containers":        containers,
		},
	}
}

// arnAccount is the account of an ARN, or "" when it is not one.
func arnAccount(s string) string {
	a, err := arn.Parse(s)
	if err != nil {
		return ""
	}
	return a.AccountID
}
