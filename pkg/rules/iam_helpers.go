package rules

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/policy"
)

// ExecutionRolePolicyARN is the AWS managed policy for task execution roles.
const ExecutionRolePolicyARN = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"

// executionRolePolicyDoc is that policy's document. AWS-managed policies are
// costly to collect, so this one, by far the most common, is known here.
const executionRolePolicyDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[
"ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:BatchGetImage",
"logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`

// ecsTasksPrincipal is the service that assumes execution roles.
const ecsTasksPrincipal = "ecs-tasks.amazonaws.com"

// executionRole resolves the task definition's execution role. It returns a
// non-nil Finding when the rule cannot go on: the task definition is missing
// (error), or there is no role to judge (skip: iam.execution-role reports on it).
func executionRole(f *account.Facts) (arn string, role *iamtypes.RoleDetail, stop *Finding) {
	td := f.TaskDefinition()
	if td == nil {
		fd := taskDefinitionNotFound(f)
		return "", nil, &fd
	}
	arn = aws.ToString(td.ExecutionRoleArn)
	if arn == "" {
		return "", nil, &Finding{Status: Skip, Message: "the task definition has no execution role; iam.execution-role judges whether it needs one"}
	}
	if fd, failed := readFailed(f, account.SrcRole, account.SrcRolePolicies); failed {
		return arn, nil, &fd
	}
	if role = f.Role(arn); role == nil {
		return arn, nil, &Finding{Status: Skip, Message: fmt.Sprintf("execution role %s not found; iam.execution-role reports it", arn)}
	}
	return arn, role, nil
}

// pullCheck is one permission to check: an action on a resource.
type pullCheck struct{ action, resource string }

func (c pullCheck) String() string { return c.action + " on " + c.resource }

// roleJudge evaluates permissions of the execution role (or, for the pull on
// EC2 without one, the instance role) and keeps the worst outcome, with
// every decision as evidence.
type roleJudge struct {
	arn string
	// who names the judged principal at the start of a message:
	// "Execution role ARN" or "Instance role ARN (instance profile … of i-…)".
	who      string
	role     *iamtypes.RoleDetail
	identity []*policy.Document
	boundary *policy.Document
	// principal and calls decide the conditions on the role and on the
	// way its calls leave the task.
	principal policy.Context
	calls     callPath
	decisions map[string]policy.Result
	worst     Finding
}

// advice is the fix for a denied permission: lift the Deny, widen the
// boundary, or else grant (the caller's command for an ordinary grant).
func (j *roleJudge) advice(res policy.Result, c pullCheck, grant string) string {
	switch {
	case res.Decision == policy.Deny:
		return fmt.Sprintf("Remove or narrow statement %s in %s: an explicit Deny wins over any Allow.", res.Statement, res.Policy)
	case res.Boundary:
		return fmt.Sprintf("Allow %s in the role's %s, which caps what its policies grant: aws iam create-policy-version --policy-arn %s --policy-document file://boundary.json --set-as-default.",
			c, res.Policy, aws.ToString(j.role.PermissionsBoundary.PermissionsBoundaryArn))
	}
	return grant
}

// newRoleJudge resolves the execution role and parses its policies. A
// non-nil Finding means the rule stops there (also when a read in srcs failed).
func newRoleJudge(f *account.Facts, srcs ...account.Source) (*roleJudge, *Finding) {
	arn, role, stop := executionRole(f)
	if stop != nil {
		return nil, stop
	}
	if fd, failed := readFailed(f, srcs...); failed {
		return nil, &fd
	}
	return judgeRole(f, arn, role, "Execution role "+arn, map[string]any{"executionRoleArn": arn})
}

// newPullJudge is newRoleJudge for whoever pulls from ECR: the execution
// role, else on the EC2 launch type the container instance's role, which
// the agent then pulls with.
func newPullJudge(f *account.Facts) (*roleJudge, *Finding) {
	td := f.TaskDefinition()
	if td == nil || aws.ToString(td.ExecutionRoleArn) != "" || !instanceRoleStandsIn(f) {
		return newRoleJudge(f)
	}
	arn, role, who, ev, stop := instanceRole(f)
	if stop != nil {
		return nil, stop
	}
	return judgeRole(f, arn, role, who, ev)
}

// judgeRole parses a role's policies into a judge whose evidence starts with ev.
func judgeRole(f *account.Facts, arn string, role *iamtypes.RoleDetail, who string, ev map[string]any) (*roleJudge, *Finding) {
	identity, boundary, err := rolePolicies(f, role)
	if err != nil {
		return nil, &Finding{Status: Error, Message: fmt.Sprintf("the policies of %s cannot be evaluated: %v", lowerFirst(who), err)}
	}
	j := &roleJudge{arn: arn, who: who, role: role, identity: identity, boundary: boundary,
		principal: principalKeys(f, aws.ToString(role.Arn)), calls: newCallPath(f), decisions: map[string]policy.Result{}}
	ev["decisions"] = j.decisions
	j.worst = Finding{Status: Pass, Evidence: ev}
	return j, nil
}

// instanceRoleStandsIn reports the EC2 launch type, where the container
// instance's role pulls ECR images when the task definition has no
// execution role. On Fargate and on external instances the execution role
// is required for that ("Amazon ECS task execution IAM role",
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html).
func instanceRoleStandsIn(f *account.Facts) bool {
	return f.Task.LaunchType == string(ecstypes.LaunchTypeEc2)
}

// InstanceRolePolicyARN is the AWS managed policy for container instance roles.
const InstanceRolePolicyARN = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"

// instanceRole resolves the role of the task's container instance: through
// the instance's profile to the role that holds it. who names it for
// messages, ev is its evidence; a non-nil Finding stops the rule.
func instanceRole(f *account.Facts) (arn string, role *iamtypes.RoleDetail, who string, ev map[string]any, stop *Finding) {
	if fd, failed := readFailed(f, account.SrcContainerInstance, account.SrcInstance, account.SrcRole, account.SrcRolePolicies); failed {
		return "", nil, "", nil, &fd
	}
	o, err := pullOriginOf(f)
	if err != nil {
		fd := pathError(err)
		return "", nil, "", nil, &fd
	}
	id := aws.ToString(o.Instance.InstanceId)
	ev = map[string]any{"principal": "instance role (the task definition has no execution role)", "instance": id}
	r, profile := f.InstanceRole()
	if profile == "" {
		return "", nil, "", ev, &Finding{Status: Fail, Evidence: ev,
			Message: fmt.Sprintf("Instance %s has no instance profile and the task definition no execution role, so the ECS agent has no credentials to pull from ECR.", id),
			Advice: fmt.Sprintf("Give the task definition an execution role (aws ecs register-task-definition ... --execution-role-arn arn:%s:iam::%s:role/ecsTaskExecutionRole), "+
				"or launch the instances with an instance profile whose role has %s.", partition(f), taskAccount(f), InstanceRolePolicyARN)}
	}
	ev["instanceProfile"] = profile
	if r == nil {
		return "", nil, "", ev, &Finding{Status: Error, Evidence: ev,
			Message: fmt.Sprintf("could not be evaluated: the role of instance profile %s (instance %s) is not in the facts", profile, id)}
	}
	arn = aws.ToString(r.Arn)
	ev["instanceRoleArn"] = arn
	return arn, r, fmt.Sprintf("Instance role %s (instance profile %s of %s)", arn, lastSegment(profile), id), ev, nil
}

// lowerFirst starts a name with a small letter, for the middle of a sentence.
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// check evaluates one permission, with the condition keys its call has, and
// records the decision. The resource's region is where the call goes ("*": the task's).
func (j *roleJudge) check(c pullCheck) (policy.Result, Status) {
	ctx := merged(j.principal, j.calls.keys(callService(c.action), arnField(c.resource, 3)))
	res := policy.EvaluateAll(j.identity, j.boundary, policy.Request{Action: c.action, Resource: c.resource, Context: ctx})
	j.decisions[c.String()] = res
	return res, verdict(res)
}

// finding returns the worst outcome kept, or a pass saying passMsg.
func (j *roleJudge) finding(passMsg string) Finding {
	if j.worst.Status == Pass {
		j.worst.Message = passMsg
	}
	return j.worst
}

// rolePolicies parses a role's identity policies (inline and attached managed)
// and its permissions boundary (nil when none). A managed policy that was not
// collected is an error: guessing its content could hide the cause.
func rolePolicies(f *account.Facts, role *iamtypes.RoleDetail) (identity []*policy.Document, boundary *policy.Document, err error) {
	for _, p := range role.RolePolicyList {
		d, err := namedPolicy("inline policy "+aws.ToString(p.PolicyName), aws.ToString(p.PolicyDocument))
		if err != nil {
			return nil, nil, err
		}
		identity = append(identity, d)
	}
	for _, p := range role.AttachedManagedPolicies {
		d, err := managedPolicy(f, aws.ToString(p.PolicyArn))
		if err != nil {
			return nil, nil, err
		}
		identity = append(identity, d)
	}
	if pb := role.PermissionsBoundary; pb != nil && aws.ToString(pb.PermissionsBoundaryArn) != "" {
		if boundary, err = managedPolicy(f, aws.ToString(pb.PermissionsBoundaryArn)); err != nil {
			return nil, nil, err
		}
		boundary.Name = "permissions boundary " + boundary.Name
	}
	return identity, boundary, nil
}

func managedPolicy(f *account.Facts, arn string) (*policy.Document, error) {
	mp := f.ManagedPolicy(arn)
	if mp == nil {
		if arn == ExecutionRolePolicyARN {
			return namedPolicy(arn, executionRolePolicyDoc)
		}
		return nil, fmt.Errorf("policy %s not collected", arn)
	}
	doc, ok := account.DefaultPolicyDocument(mp)
	if !ok {
		return nil, fmt.Errorf("policy %s: default version not collected", arn)
	}
	return namedPolicy(arn, doc)
}

func namedPolicy(name, doc string) (*policy.Document, error) {
	d, err := policy.Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	d.Name = name
	return d, nil
}

// decisionText explains a result for a message, with what the facts made
// of the deciding statement's condition.
func decisionText(r policy.Result) string {
	switch {
	case r.Decision == policy.Deny && r.Conditional:
		return fmt.Sprintf("denied by %s, statement %s, when its condition holds%s", r.Policy, r.Statement, undecidedNote(r))
	case r.Decision == policy.Deny:
		return fmt.Sprintf("explicitly denied by %s, statement %s%s", r.Policy, r.Statement, decidedNote(r))
	case r.Boundary:
		return fmt.Sprintf("not allowed by its %s", r.Policy)
	case r.Decision == policy.ImplicitDeny:
		return "no policy allows it"
	case r.Conditional:
		return fmt.Sprintf("allowed by %s, statement %s, only under a condition%s", r.Policy, r.Statement, undecidedNote(r))
	}
	return fmt.Sprintf("allowed by %s, statement %s%s", r.Policy, r.Statement, decidedNote(r))
}

// decidedNote names the facts that made the deciding statement's condition hold.
func decidedNote(r policy.Result) string {
	if len(r.Decided) == 0 {
		return ""
	}
	return ", whose condition holds for this pull (" + strings.Join(r.Decided, ", ") + ")"
}

// undecidedNote names the condition tests the facts cannot decide.
func undecidedNote(r policy.Result) string {
	if len(r.Undecided) == 0 {
		return ""
	}
	return " (not decidable from the facts: " + strings.Join(r.Undecided, ", ") + ")"
}

// verdict maps a decision to a status: allow passes, a conditional allow or
// deny cannot be proven either way (warn), anything else fails.
func verdict(r policy.Result) Status {
	switch {
	case r.Conditional:
		return Warn
	case r.Decision == policy.Allow:
		return Pass
	}
	return Fail
}

// findSecret finds a Secrets Manager secret by full ARN, partial ARN (without
// the "-XXXXXX" suffix Secrets Manager appends) or name.
func findSecret(f *account.Facts, ref string) *smtypes.SecretListEntry {
	for i, s := range f.Secrets.SecretsManager {
		arn, name := aws.ToString(s.ARN), aws.ToString(s.Name)
		if arn == ref || name == ref || (strings.HasPrefix(arn, ref+"-") && len(arn) == len(ref)+7) {
			return &f.Secrets.SecretsManager[i]
		}
	}
	return nil
}

// roleName is the last path element of a role ARN.
func roleName(arn string) string { return lastSegment(arn) }

// worse reports whether status a is more severe than b: fail > warn > pass.
func worse(a, b Status) bool {
	rank := map[Status]int{Pass: 0, Warn: 1, Fail: 2}
	return rank[a] > rank[b]
}

// keepWorst replaces cur with next when next is more severe, so a rule
// reports its first most serious problem; cur's evidence is kept.
func keepWorst(cur *Finding, next Finding) {
	if worse(next.Status, cur.Status) {
		next.Evidence = cur.Evidence
		*cur = next
	}
}
