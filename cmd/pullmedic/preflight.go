package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
	"github.com/pullmedic/pullmedic/pkg/report"
)

var preflightCmd = &command{
	name: "preflight",
	synopsis: "--cluster NAME --service NAME [--task-definition FAMILY[:REV]|ARN]\n" +
		"      [--snapshot SNAP.json] [--format text|json|markdown] [--region R]",
	summary: "judge a service's next task before it runs: the CI gate before a deployment",
	details: `Judges a task that has not run yet, as a deployment would start it: the
service's network configuration (the task is placed in the service's first
subnet, with its security groups and public IP setting), its launch type and
platform version, and the task definition about to be deployed (its images,
execution role, secrets and platform). Every rule of the catalog runs as for
a stopped task whose stop reason is unknown. The report says "mode":
"preflight" and has no stop reason.

Without --task-definition the service's current task definition is judged.
Without --snapshot it reads the live account through the default AWS
credential chain; it only reads (ecs:DescribeServices and
ecs:DescribeTaskDefinition, then what diagnose reads), so a read-only role
will do. With --snapshot it works offline; the snapshot must hold the service
and the task definition.

Run it in CI before "aws ecs update-service": exit code 3 means the new task
would not pull its image, 4 that some of it could not be checked.
--format markdown writes the report for a pull request comment or the job
summary, with the path drawn as a Mermaid flowchart.

Examples:
  pullmedic preflight --cluster shop --service web --task-definition web:13
  pullmedic preflight --cluster shop --service web --task-definition web:13 \
      --format markdown >> "$GITHUB_STEP_SUMMARY"
  pullmedic preflight --cluster shop --service web --snapshot snapshot.json`,
	define: func(fs *flag.FlagSet) func(context.Context, *cli) error {
		var p preflight
		fs.StringVar(&p.cluster, "cluster", "", "the service's cluster `NAME` or ARN (required)")
		fs.StringVar(&p.service, "service", "", "service `NAME` or ARN (required)")
		fs.StringVar(&p.taskDefinition, "task-definition", "", "judge `FAMILY:REV`, an ARN, or FAMILY (its latest ACTIVE revision) instead of the service's current task definition")
		p.source.addFlags(fs, "live only: AWS `region` to read, instead of the cluster or service ARN's, or the default configuration's")
		p.output.addFlags(fs, reportFormats)
		return p.run
	},
}

type preflight struct {
	cluster, service, taskDefinition string
	source
	output
}

func (p *preflight) run(ctx context.Context, c *cli) error {
	switch {
	case p.cluster == "":
		return usagef("--cluster is required")
	case p.service == "":
		return usagef("--service is required")
	}
	if err := p.output.check(); err != nil {
		return err
	}
	acct, err := p.open(ctx, c, cmp.Or(p.region, arnPart(p.cluster).Region, arnPart(p.service).Region),
		cmp.Or(arnPart(p.cluster).AccountID, arnPart(p.service).AccountID))
	if err != nil {
		return err
	}
	if acct.snap == nil && acct.cfg.Region == "" {
		return usagef("no AWS region: give --region, or set AWS_REGION or a region in your AWS profile")
	}
	c.progressf("reading service %s of cluster %s…", p.service, p.cluster)
	svc, td, err := p.next(ctx, p.deployments(acct))
	if err != nil {
		return err
	}
	// A snapshot's region is in its header, else in the service's ARN.
	region := acct.cfg.Region
	if acct.snap != nil {
		region = cmp.Or(acct.snap.Region, arnPart(aws.ToString(svc.ServiceArn)).Region)
	}
	task, err := plannedTask(svc, td, region)
	if err != nil {
		return err
	}
	if acct.snap == nil {
		c.progressf("collecting from account %s in %s…", task.Account, region)
	}
	rep, err := judge(ctx, c, acct.view(), task)
	if err != nil {
		return err
	}
	rep.Mode = report.ModePreflight
	return p.finish(c, rep)
}

// deployments is where the service and its task definitions are read.
func (p *preflight) deployments(acct *openAccount) deployments {
	if acct.snap != nil {
		return snapshotDeployments{snap: acct.snap, file: p.snapshot}
	}
	return liveDeployments{api: ecs.NewFromConfig(acct.cfg), region: acct.cfg.Region}
}

// next reads the service and the task definition its next task would run.
func (p *preflight) next(ctx context.Context, deps deployments) (ecstypes.Service, ecstypes.TaskDefinition, error) {
	svc, err := deps.service(ctx, p.cluster, p.service)
	if err != nil {
		return ecstypes.Service{}, ecstypes.TaskDefinition{}, err
	}
	ref, flagName := p.taskDefinition, "--task-definition "+p.taskDefinition
	if ref == "" {
		ref = aws.ToString(svc.TaskDefinition)
		flagName = fmt.Sprintf("service %s's task definition %s", p.service, ref)
	}
	td, err := deps.taskDefinition(ctx, ref, flagName)
	if err != nil {
		return ecstypes.Service{}, ecstypes.TaskDefinition{}, err
	}
	return *svc, *td, nil
}

// plannedTask is the task the service would start with td: what a stop
// event would say of it, less what only a run has (a task ARN, a network
// interface and its address, a stop reason). The reason class is unknown,
// so the cause is the first failing rule in catalog order.
//
// It lives here rather than in pkg/event: pkg/event reads events and stays
// free of the AWS SDK, and the task is only a struct literal of its
// exported fields, which a constructor there would merely repeat.
func plannedTask(svc ecstypes.Service, td ecstypes.TaskDefinition, region string) (*event.Task, error) {
	name := aws.ToString(svc.ServiceName)
	net := awsvpcConfiguration(svc)
	if net == nil || len(net.Subnets) == 0 {
		return nil, &badInput{file: "--service " + name, err: errors.New("the service has no awsvpc network configuration: " +
			"preflight judges tasks that get their own network interface in the service's subnets (network mode awsvpc)")}
	}
	t := &event.Task{
		Account:           cmp.Or(arnAccount(aws.ToString(svc.ServiceArn)), arnAccount(aws.ToString(svc.ClusterArn))),
		Region:            region,
		ClusterArn:        aws.ToString(svc.ClusterArn),
		TaskDefinitionArn: aws.ToString(td.TaskDefinitionArn),
		Group:             "service:" + name,
		Service:           name,
		LaunchType:        launchType(svc),
		PlatformVersion:   aws.ToString(svc.PlatformVersion),
		SubnetID:          net.Subnets[0],
		Class:             event.ClassUnknown,
	}
	for _, c := range td.ContainerDefinitions {
		t.Containers = append(t.Containers, event.Container{Name: aws.ToString(c.Name), Image: aws.ToString(c.Image)})
	}
	return t, nil
}

func awsvpcConfiguration(svc ecstypes.Service) *ecstypes.AwsVpcConfiguration {
	if svc.NetworkConfiguration == nil {
		return nil
	}
	return svc.NetworkConfiguration.AwsvpcConfiguration
}

// launchType is the service's, else what its capacity providers run on:
// FARGATE and FARGATE_SPOT are Fargate, any other is an Auto Scaling group
// of EC2 instances. "" when the service leaves it to the cluster's default
// strategy; the rules then assume the most an EC2 host needs (ecr.api too).
func launchType(svc ecstypes.Service) string {
	if svc.LaunchType != "" {
		return string(svc.LaunchType)
	}
	if len(svc.CapacityProviderStrategy) == 0 {
		return ""
	}
	for _, s := range svc.CapacityProviderStrategy {
		if p := aws.ToString(s.CapacityProvider); p != "FARGATE" && p != "FARGATE_SPOT" {
			return string(ecstypes.LaunchTypeEc2)
		}
	}
	return string(ecstypes.LaunchTypeFargate)
}

// deployments finds a service and task definitions by the names preflight is given.
type deployments interface {
	service(ctx context.Context, cluster, name string) (*ecstypes.Service, error)
	// taskDefinition finds ref (FAMILY:REV, ARN, or FAMILY for its latest
	// ACTIVE revision); what names the ref in errors: the flag, or the service.
	taskDefinition(ctx context.Context, ref, what string) (*ecstypes.TaskDefinition, error)
}

// ecsDeployments is the part of the ECS client preflight reads with.
type ecsDeployments interface {
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, opts ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, opts ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
}

type liveDeployments struct {
	api    ecsDeployments
	region string
}

func (l liveDeployments) service(ctx context.Context, cluster, name string) (*ecstypes.Service, error) {
	out, err := l.api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{name}})
	var missing *ecstypes.ClusterNotFoundException
	switch {
	case errors.As(err, &missing):
		return nil, &badInput{file: "--cluster " + cluster, err: fmt.Errorf("no such cluster in %s: check --cluster and --region", l.region)}
	case err != nil:
		return nil, fmt.Errorf("reading service %s of cluster %s: %w", name, cluster, err)
	case len(out.Services) == 0:
		reason := "not found"
		if len(out.Failures) > 0 {
			reason = aws.ToString(out.Failures[0].Reason)
		}
		return nil, &badInput{file: "--service " + name, err: fmt.Errorf("%s in cluster %s in %s: check --cluster, --service and --region", reason, cluster, l.region)}
	}
	return activeService(out.Services[0])
}

func (l liveDeployments) taskDefinition(ctx context.Context, ref, what string) (*ecstypes.TaskDefinition, error) {
	out, err := l.api.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(ref)})
	// ECS answers a task definition that does not exist with a ClientException.
	var client *ecstypes.ClientException
	switch {
	case errors.As(err, &client):
		return nil, &badInput{file: what, err: fmt.Errorf("not found in %s (%s): check the family, the revision and --region", l.region, aws.ToString(client.Message))}
	case err != nil:
		return nil, fmt.Errorf("reading task definition %s: %w", ref, err)
	case out.TaskDefinition == nil:
		return nil, &badInput{file: what, err: fmt.Errorf("not found in %s", l.region)}
	}
	return out.TaskDefinition, nil
}

// snapshotDeployments reads a snapshot; file names it in errors.
type snapshotDeployments struct {
	snap *account.Snapshot
	file string
}

func (s snapshotDeployments) service(_ context.Context, cluster, name string) (*ecstypes.Service, error) {
	var held []string
	for _, svc := range s.snap.ECS.Services {
		c, n := aws.ToString(svc.ClusterArn), aws.ToString(svc.ServiceArn)
		if namesResource(c, "", cluster) && namesResource(n, aws.ToString(svc.ServiceName), name) {
			return activeService(svc)
		}
		held = append(held, lastPart(c)+"/"+aws.ToString(svc.ServiceName))
	}
	return nil, &badInput{file: s.file, err: fmt.Errorf("no service %s in cluster %s (the snapshot holds %s): check --cluster and --service, or collect a snapshot that holds it",
		name, cluster, heldList(held))}
}

func (s snapshotDeployments) taskDefinition(_ context.Context, ref, what string) (*ecstypes.TaskDefinition, error) {
	family, rev, hasRev := strings.Cut(ref, ":")
	var found *ecstypes.TaskDefinition
	var held []string
	for i, td := range s.snap.ECS.TaskDefinitions {
		tdArn := aws.ToString(td.TaskDefinitionArn)
		held = append(held, lastPart(tdArn))
		switch {
		case strings.HasPrefix(ref, "arn:"):
			if tdArn == ref {
				found = &s.snap.ECS.TaskDefinitions[i]
			}
		case aws.ToString(td.Family) != family:
		case hasRev:
			if strconv.Itoa(int(td.Revision)) == rev {
				found = &s.snap.ECS.TaskDefinitions[i]
			}
		case td.Status != ecstypes.TaskDefinitionStatusInactive && (found == nil || td.Revision > found.Revision):
			found = &s.snap.ECS.TaskDefinitions[i]
		}
	}
	if found == nil {
		return nil, &badInput{file: s.file, err: fmt.Errorf("%s is not in the snapshot (it holds %s)", what, heldList(held))}
	}
	return found, nil
}

// activeService refuses a deleted service: it starts no tasks.
func activeService(svc ecstypes.Service) (*ecstypes.Service, error) {
	if status := aws.ToString(svc.Status); status == "INACTIVE" {
		return nil, &badInput{file: "--service " + aws.ToString(svc.ServiceName), err: errors.New("the service is INACTIVE (deleted): it starts no tasks to judge")}
	}
	return &svc, nil
}

// namesResource reports whether want (a name or an ARN) names the resource
// with this ARN and name; the name may be "" to take it from the ARN.
func namesResource(resourceArn, name, want string) bool {
	return want == resourceArn || want == cmp.Or(name, lastPart(resourceArn))
}

func heldList(held []string) string {
	if len(held) == 0 {
		return "none"
	}
	slices.Sort(held)
	return strings.Join(held, ", ")
}

// arnPart is an ARN taken apart; the zero ARN when s is a name.
func arnPart(s string) arn.ARN {
	a, _ := arn.Parse(s) // the zero ARN for a name
	return a
}

// lastPart is the name at the end of an ARN (cluster/NAME, task-definition/FAMILY:REV).
func lastPart(s string) string { return s[strings.LastIndex(s, "/")+1:] }
