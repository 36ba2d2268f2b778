package account

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func (c *collector) describeTask(ctx context.Context) {
	const api = "ecs:DescribeTasks"
	out, err := c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{
		Cluster: aws.String(c.t.ClusterArn), Tasks: []string{c.t.TaskArn},
		Include: []ecstypes.TaskField{ecstypes.TaskFieldTags},
	})
	if !c.check(SrcTask, api, err) {
		return
	}
	c.f.ECS.Tasks = out.Tasks
	// A stopped task ages out within the hour; the event stands in for it.
	c.ecsFailures(SrcTask, api, out.Failures, "MISSING")
}

func (c *collector) describeCluster(ctx context.Context) {
	const api = "ecs:DescribeClusters"
	out, err := c.ecs.DescribeClusters(ctx, &ecs.DescribeClustersInput{
		Clusters: []string{c.t.ClusterArn},
		Include:  []ecstypes.ClusterField{ecstypes.ClusterFieldTags},
	})
	if !c.check(SrcCluster, api, err) {
		return
	}
	c.f.ECS.Clusters = out.Clusters
	c.ecsFailures(SrcCluster, api, out.Failures, "")
}

func (c *collector) describeService(ctx context.Context) {
	const api = "ecs:DescribeServices"
	out, err := c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{
		Cluster: aws.String(c.t.ClusterArn), Services: []string{c.t.Service},
		Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags},
	})
	if !c.check(SrcService, api, err) {
		return
	}
	c.f.ECS.Services = out.Services
	c.ecsFailures(SrcService, api, out.Failures, "")
}

// ecsFailures records the per-resource failures of an ECS Describe call
// ("MISSING" for a resource that does not exist), except the accepted reason.
func (c *collector) ecsFailures(src Source, api string, fs []ecstypes.Failure, accept string) {
	for _, f := range fs {
		reason := aws.ToString(f.Reason)
		if accept != "" && reason == accept {
			continue
		}
		msg := reason + ": " + aws.ToString(f.Arn)
		if d := aws.ToString(f.Detail); d != "" {
			msg += " (" + d + ")"
		}
		c.fail(src, api, errors.New(msg))
	}
}

// describeTaskDefinition gates the execution role and the secrets the task reads at start.
func (c *collector) describeTaskDefinition(ctx context.Context) []read {
	out, err := c.ecs.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(c.t.TaskDefinitionArn)})
	if err == nil && out.TaskDefinition == nil {
		err = notFound("task definition " + c.t.TaskDefinitionArn)
	}
	if err != nil {
		msg := c.fail(SrcTaskDefinition, "ecs:DescribeTaskDefinition", err)
		c.skip(fmt.Sprintf("task definition %s could not be read: %s", c.t.TaskDefinitionArn, msg), SrcRole, SrcRolePolicies, SrcSecrets)
		return nil
	}
	td := out.TaskDefinition
	c.f.ECS.TaskDefinitions = []ecstypes.TaskDefinition{*td}
	var next []read
	if arn := aws.ToString(td.ExecutionRoleArn); arn != "" {
		next = c.roleReads(arn)
	} else if c.f.OnInstance() {
		// The instance role pulls instead; the instance names it (describeInstance).
		c.instanceRole = true
	}
	return append(next, c.secretReads(td)...)
}

// describeContainerInstance reads the task's EC2 host, which gates the
// instance and, through it, the network the pull leaves from.
func (c *collector) describeContainerInstance(ctx context.Context) []read {
	const api = "ecs:DescribeContainerInstances"
	arn := c.t.ContainerInstanceArn
	hostSources := append([]Source{SrcInstance, SrcSubnet}, vpcSources...)
	if arn == "" {
		c.fail(SrcContainerInstance, api, errors.New("the event names no containerInstanceArn for a task on a container instance"))
		c.skip("the task's container instance is unknown", hostSources...)
		return nil
	}
	out, err := c.ecs.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{
		Cluster: aws.String(c.t.ClusterArn), ContainerInstances: []string{arn},
	})
	if err == nil && len(out.ContainerInstances) == 0 && len(out.Failures) == 0 {
		err = notFound("container instance " + arn)
	}
	if err != nil {
		msg := c.fail(SrcContainerInstance, api, err)
		c.skip(fmt.Sprintf("container instance %s could not be read: %s", arn, msg), hostSources...)
		return nil
	}
	// A deregistered instance answers MISSING: that is a failed read here,
	// since everything about the pull's path hangs on it.
	c.ecsFailures(SrcContainerInstance, api, out.Failures, "")
	if len(out.ContainerInstances) == 0 {
		c.skip("container instance "+arn+" could not be read", hostSources...)
		return nil
	}
	ci := out.ContainerInstances[0]
	c.f.ECS.ContainerInstances = out.ContainerInstances
	id := aws.ToString(ci.Ec2InstanceId)
	if id == "" {
		// An external (ECS Anywhere) host has no EC2 instance and no VPC path to read.
		return nil
	}
	return []read{gate(func(ctx context.Context) []read { return c.describeInstance(ctx, id) })}
}
