package rules

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/pkg/account"
)

// HostAgent: the container instance's ECS agent is connected and new enough
// for what the task asks of it before the pull.
var HostAgent = Rule{
	ID:       "host.agent",
	Title:    "ECS agent too old or disconnected",
	Severity: High,
	Summary:  "The container instance's ECS agent is connected, and new enough for what the task uses (execution-role ECR auth 1.16.0, private registry auth 1.19.0, secrets 1.22.0, a secret's JSON key or version 1.37.0)",
	Remediation: "Update the agent (aws ecs update-container-agent, or instances from the latest ECS-optimized AMI), " +
		"and restart a disconnected one (sudo systemctl restart ecs).",
	Needs: []account.Source{account.SrcTaskDefinition, account.SrcContainerInstance},
	Check: checkHostAgent,
}

// agentVersion is a dotted agent version, compared numerically.
type agentVersion [3]int

func (v agentVersion) String() string { return fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2]) }

func (v agentVersion) less(w agentVersion) bool {
	for i := range v {
		if v[i] != w[i] {
			return v[i] < w[i]
		}
	}
	return false
}

// parseAgentVersion reads "1.16.0" (also "v1.16.0", or "1.87.1-1" from
// ecs-init); ok is false for anything else.
func parseAgentVersion(s string) (v agentVersion, ok bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	s, _, _ = strings.Cut(s, "-")
	parts := strings.Split(s, ".")
	if len(parts) == 0 || len(parts) > 3 {
		return v, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, false
		}
		v[i] = n
	}
	return v, true
}

// agentNeed is a feature of the task and the first agent version that has it.
type agentNeed struct {
	what string
	min  agentVersion
	doc  string
}

// The minimum agent versions, from the Amazon ECS Developer Guide:
//   - the task execution role (the agent authenticates to ECR with it):
//     "supported by Amazon ECS container agent version 1.16.0 and later",
//     https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html;
//   - private registry authentication (repositoryCredentials): "For tasks
//     hosted on Amazon EC2 instances, this feature requires version 1.19.0 or
//     later of the container agent",
//     https://docs.aws.amazon.com/AmazonECS/latest/developerguide/private-auth.html;
//   - secrets as environment variables or in a log configuration: version
//     1.22.0, and a specific JSON key or version of a Secrets Manager secret
//     1.37.0, https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html.
var (
	needExecutionRole = agentVersion{1, 16, 0}
	needPrivateAuth   = agentVersion{1, 19, 0}
	needSecrets       = agentVersion{1, 22, 0}
	needSecretKey     = agentVersion{1, 37, 0}
)

const (
	docExecutionRole = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html"
	docPrivateAuth   = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/private-auth.html"
	docSecrets       = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html"
)

// agentNeeds lists what the task asks of the agent before its containers
// start, each with the version that brought it.
func agentNeeds(f *account.Facts, td *ecstypes.TaskDefinition) []agentNeed {
	var out []agentNeed
	cs := containerImages(f)
	if aws.ToString(td.ExecutionRoleArn) != "" && len(ecrImages(cs)) > 0 {
		out = append(out, agentNeed{"ECR authentication with the task execution role", needExecutionRole, docExecutionRole})
	}
	for _, c := range cs {
		if c.Def == nil {
			continue
		}
		if c.Def.RepositoryCredentials != nil {
			out = append(out, agentNeed{"private registry authentication (repositoryCredentials) of container " + c.Name, needPrivateAuth, docPrivateAuth})
		}
		secrets := c.Def.Secrets
		if lc := c.Def.LogConfiguration; lc != nil {
			secrets = append(append([]ecstypes.Secret{}, secrets...), lc.SecretOptions...)
		}
		for _, s := range secrets {
			need := agentNeed{"the secrets of container " + c.Name, needSecrets, docSecrets}
			// A Secrets Manager secret ARN has 7 fields; a JSON key, version
			// stage or version ID follows it as more (":key:stage:id").
			if from := aws.ToString(s.ValueFrom); strings.Contains(from, ":secretsmanager:") && strings.Count(from, ":") > 6 {
				need = agentNeed{"a JSON key or version of a secret of container " + c.Name, needSecretKey, docSecrets}
			}
			out = append(out, need)
		}
	}
	return out
}

func checkHostAgent(f *account.Facts) Finding {
	if !f.OnInstance() {
		return Finding{Status: Skip, Message: "The task runs on Fargate, where AWS runs and updates the agent."}
	}
	td := f.TaskDefinition()
	if td == nil {
		return taskDefinitionNotFound(f)
	}
	ci := f.ContainerInstance()
	if ci == nil {
		if f.Task.ContainerInstanceArn == "" {
			return Finding{Status: Error, Message: "could not be evaluated: the event names no container instance for the task"}
		}
		return Finding{Status: Error, Message: fmt.Sprintf("could not be evaluated: container instance %s not found", f.Task.ContainerInstanceArn)}
	}
	host := hostLabel(f, ci)
	raw := ""
	if ci.VersionInfo != nil {
		raw = aws.ToString(ci.VersionInfo.AgentVersion)
	}
	ev := map[string]any{"containerInstance": aws.ToString(ci.ContainerInstanceArn), "agentConnected": ci.AgentConnected,
		"agentVersion": raw, "status": aws.ToString(ci.Status)}
	if id := aws.ToString(ci.Ec2InstanceId); id != "" {
		ev["instance"] = id
	}
	needs := agentNeeds(f, td)
	version, known := parseAgentVersion(raw)
	var uses []string
	for _, n := range needs {
		uses = append(uses, fmt.Sprintf("%s (%s+)", n.what, n.min))
		if known && version.less(n.min) {
			ev["needs"] = uses
			return Finding{Status: Fail, Evidence: ev,
				Message: fmt.Sprintf("The ECS agent %s on %s is older than %s, the first version with %s (%s), so it cannot prepare the task's pull.", version, host, n.min, n.what, n.doc),
				Advice:  agentUpdateAdvice(f, ci)}
		}
	}
	if len(uses) > 0 {
		ev["needs"] = uses
	}
	if !ci.AgentConnected {
		// The state is read after the failure, and agents reconnect on
		// their own: a disconnection is likely, not proven, to be the cause.
		return Finding{Status: Warn, Evidence: ev,
			Message: fmt.Sprintf("The ECS agent on %s is disconnected from ECS (status %s): a pull it had started may have been cut off, and it cannot report or retry it.", host, aws.ToString(ci.Status)),
			Advice:  agentLogAdvice(ci)}
	}
	if !known && len(needs) > 0 {
		return Finding{Status: Warn, Evidence: ev,
			Message: fmt.Sprintf("The ECS agent on %s reports version %q, which cannot be compared with what the task needs (%s).", host, raw, strings.Join(uses, ", "))}
	}
	msg := fmt.Sprintf("The ECS agent %s on %s is connected", raw, host)
	if len(uses) > 0 {
		msg += " and supports " + strings.Join(uses, ", ")
	}
	return Finding{Status: Pass, Evidence: ev, Message: msg + "."}
}

// hostLabel names the container instance (and its EC2 instance) for messages.
func hostLabel(f *account.Facts, ci *ecstypes.ContainerInstance) string {
	label := "container instance " + lastSegment(aws.ToString(ci.ContainerInstanceArn))
	if id := aws.ToString(ci.Ec2InstanceId); id != "" {
		label = "instance " + id + " (" + label + ")"
	}
	return label
}

// agentUpdateAdvice updates the agent in place (Amazon Linux ECS-optimized
// AMIs), or replaces the instance.
func agentUpdateAdvice(f *account.Facts, ci *ecstypes.ContainerInstance) string {
	return fmt.Sprintf("Update the agent: aws ecs update-container-agent --cluster %s --container-instance %s "+
		"(ECS-optimized Amazon Linux AMIs; on other AMIs update the ecs-init package, or replace the instances with ones from the latest ECS-optimized AMI).",
		f.Task.ClusterName(), lastSegment(aws.ToString(ci.ContainerInstanceArn)))
}

// agentLogAdvice reads the agent's state and log on the host with SSM Run Command.
func agentLogAdvice(ci *ecstypes.ContainerInstance) string {
	id := aws.ToString(ci.Ec2InstanceId)
	if id == "" {
		return "On the host: sudo systemctl status ecs; sudo tail -n 100 /var/log/ecs/ecs-agent.log; then sudo systemctl restart ecs."
	}
	return fmt.Sprintf(`Look at the agent on the host: aws ssm send-command --instance-ids %s --document-name AWS-RunShellScript --parameters 'commands=["systemctl status ecs --no-pager","tail -n 100 /var/log/ecs/ecs-agent.log"]', `+
		"then restart it (sudo systemctl restart ecs) or replace the instance if it stays disconnected.", id)
}

// lastSegment is the part of an ARN after its last slash.
func lastSegment(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }
