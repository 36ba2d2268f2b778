package e2e

import (
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/pullmedic/pullmedic/pkg/fix"
)

// Hub and spoke: template.yaml in hub mode, and deploy/member.yaml, which a
// StackSet puts in every member account and region.

const memberPath = "../deploy/member.yaml"

// memberForwards names, for each of the template's function events, the
// member rule that forwards the same events to the hub bus.
var memberForwards = map[string]string{
	"PullFailure":         "PullFailureForward",
	"DeploymentCompleted": "DeploymentCompletedForward",
	"ServiceSteadyState":  "ServiceSteadyStateForward",
}

// memberNode is deploy/member.yaml as YAML nodes.
func memberNode(t *testing.T) *yaml.Node { return yamlNode(t, memberPath) }

// rulePatterns returns the pattern of one of the template's function events
// in every place it runs: the function's own rule (the default bus, or the
// hub bus in hub mode: one rule, TestHubRulesRunOnTheHubBus) and the member
// accounts' forwarding rule.
func rulePatterns(t *testing.T, event string) map[string]map[string]any {
	t.Helper()
	fwd := child(child(child(child(memberNode(t), "Resources"), memberForwards[event]), "Properties"), "EventPattern")
	if fwd == nil {
		t.Fatalf("%s: no EventPattern for %s (%s)", memberPath, memberForwards[event], event)
	}
	var member map[string]any
	if err := fwd.Decode(&member); err != nil {
		t.Fatal(err)
	}
	return map[string]map[string]any{
		"template.yaml " + event + " (default or hub bus)": templatePatterns(t)[event],
		"member.yaml " + memberForwards[event]:             member,
	}
}

// The member's forwarding rules hear exactly what the hub's rules hear:
// the same patterns, operator for operator, and they send to the hub bus
// with the role EventBridge needs for another account's bus.
func TestMemberForwardsTheTemplatesPatterns(t *testing.T) {
	resources := child(memberNode(t), "Resources")
	for event, rule := range memberForwards {
		t.Run(rule, func(t *testing.T) {
			var patterns []map[string]any
			for _, p := range rulePatterns(t, event) {
				patterns = append(patterns, p)
			}
			if len(patterns) != 2 || patterns[0] == nil || !reflect.DeepEqual(patterns[0], patterns[1]) {
				t.Errorf("%s's pattern differs from template.yaml's %s:\n%v\n%v", rule, event, patterns[0], patterns[1])
			}
			targets := child(child(child(resources, rule), "Properties"), "Targets")
			if targets == nil || len(targets.Content) != 1 {
				t.Fatalf("%s: want one target", rule)
			}
			target := targets.Content[0]
			if arn := child(target, "Arn"); arn == nil || arn.Tag != "!Ref" || arn.Value != "HubEventBusArn" {
				t.Errorf("%s targets %v, want !Ref HubEventBusArn", rule, arn)
			}
			if role := child(target, "RoleArn"); role == nil || role.Tag != "!GetAtt" || role.Value != "ForwardRole.Arn" {
				t.Errorf("%s: RoleArn %v, want !GetAtt ForwardRole.Arn", rule, role)
			}
		})
	}
}

// In hub mode the function's three rules run on the hub bus, whose policy
// admits only the organization or the listed accounts.
func TestHubRulesRunOnTheHubBus(t *testing.T) {
	resources := child(templateNode(t), "Resources")
	events := child(child(child(resources, "DiagnoseFunction"), "Properties"), "Events")
	for event := range memberForwards {
		bus := child(child(child(events, event), "Properties"), "EventBusName")
		if bus == nil || bus.Tag != "!If" || len(bus.Content) != 3 || bus.Content[0].Value != "IsHub" ||
			bus.Content[1].Tag != "!Ref" || bus.Content[1].Value != "HubEventBus" || bus.Content[2].Value != "default" {
			t.Errorf("%s: EventBusName %v, want !If [IsHub, !Ref HubEventBus, default]", event, bus)
		}
	}
	org := child(child(child(resources, "HubBusOrganizationPolicy"), "Properties"), "Statement")
	if id := child(child(child(org, "Condition"), "StringEquals"), "aws:PrincipalOrgID"); id == nil || id.Tag != "!Ref" || id.Value != "OrganizationId" {
		t.Errorf("the organization's bus policy is not conditioned on aws:PrincipalOrgID = !Ref OrganizationId")
	}
	if p := child(org, "Principal"); p == nil || p.Value != "*" {
		t.Errorf(`the organization's bus policy: Principal %v, want "*" (with the organization condition)`, p)
	}
	for _, policy := range []string{"HubBusOrganizationPolicy", "HubBusAccountsPolicy"} {
		st := child(child(child(resources, policy), "Properties"), "Statement")
		if a := child(st, "Action"); a == nil || a.Value != "events:PutEvents" {
			t.Errorf("%s grants %v, want events:PutEvents only", policy, a)
		}
	}
}

// active reports whether a statement under template condition when applies
// in the given mode.
func active(when string, hub bool) bool {
	switch when {
	case "":
		return true
	case "IsHub", "!IsSingleAccount":
		return hub
	case "!IsHub", "IsSingleAccount":
		return !hub
	}
	return true // conditions on other parameters apply in both modes
}

// modeGrants returns the actions a function's role has in one mode, and the
// statements that grant sts:AssumeRole.
func modeGrants(t *testing.T, function string, hub bool) (actions []string, assume []statement) {
	for _, st := range roleStatements(t, function) {
		if !active(st.when, hub) {
			continue
		}
		actions = append(actions, st.actions...)
		if granted("sts:AssumeRole", st.actions) {
			assume = append(assume, st)
		}
	}
	return actions, assume
}

// A hub reads and writes members only through their roles: sts:AssumeRole on
// the reader (and, for remediate, the fixer) role names, and none of the
// single-account reads or writes in its own account. A single-account stack
// assumes nothing.
func TestHubModeAssumesOnlyTheMemberRoles(t *testing.T) {
	for fn, roles := range map[string][]string{
		"DiagnoseFunction":  {"ReaderRoleName"},
		"RemediateFunction": {"ReaderRoleName", "FixerRoleName"},
	} {
		t.Run(fn, func(t *testing.T) {
			single, assumeSingle := modeGrants(t, fn, false)
			if len(assumeSingle) > 0 {
				t.Errorf("single-account mode grants sts:AssumeRole (%s)", assumeSingle[0].sid)
			}
			if !granted("ec2:DescribeSubnets", single) {
				t.Error("single-account mode lacks the ReadPolicy's reads")
			}
			hub, assume := modeGrants(t, fn, true)
			if len(assume) != 1 || len(assume[0].actions) != 1 {
				t.Fatalf("hub mode: %d sts:AssumeRole statements (%v), want one granting only it", len(assume), assume)
			}
			var resources []string
			res := assume[0].resource
			for _, r := range append([]*yaml.Node{res}, res.Content...) {
				if r.Tag == "!Sub" {
					resources = append(resources, r.Value)
				}
			}
			var want []string
			for _, name := range roles {
				want = append(want, "arn:${AWS::Partition}:iam::*:role/${"+name+"}")
			}
			if !slices.Equal(resources, want) {
				t.Errorf("hub mode assumes %v, want %v", resources, want)
			}
			for _, own := range []string{"ec2:DescribeSubnets", "iam:GetRole", "ec2:AuthorizeSecurityGroupIngress", "ecs:UpdateService"} {
				if granted(own, hub) {
					t.Errorf("hub mode grants %s in the hub's own account; it goes through the member's role", own)
				}
			}
		})
	}
}

// memberRole returns a member role's properties.
func memberRole(t *testing.T, name string) *yaml.Node {
	t.Helper()
	role := child(child(memberNode(t), "Resources"), name)
	if role == nil {
		t.Fatalf("%s: no %s", memberPath, name)
	}
	return role
}

// memberActions returns the actions of a member role's inline policies, by
// statement Sid, seeing through !If.
func memberActions(t *testing.T, role *yaml.Node) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	var add func(n *yaml.Node)
	add = func(n *yaml.Node) {
		switch {
		case n.Tag == "!If" && len(n.Content) == 3:
			add(n.Content[1])
			add(n.Content[2])
		case n.Tag == "!Ref":
		default:
			sid := child(n, "Sid")
			action := child(n, "Action")
			if sid == nil || action == nil {
				t.Fatalf("%s:%d: a statement without Sid or Action", memberPath, n.Line)
			}
			if action.Kind == yaml.ScalarNode {
				out[sid.Value] = append(out[sid.Value], action.Value)
			}
			for _, a := range action.Content {
				out[sid.Value] = append(out[sid.Value], a.Value)
			}
		}
	}
	for _, p := range child(child(role, "Properties"), "Policies").Content {
		for _, st := range child(child(p, "PolicyDocument"), "Statement").Content {
			add(st)
		}
	}
	return out
}

// The member's reader may do exactly what the single-account ReadPolicy does,
// in both directions, so the two cannot drift; plus the one call that proves
// the account is in the organization.
func TestMemberReaderActionsAreTheReadPolicys(t *testing.T) {
	var policy []string
	doc := child(child(child(child(templateNode(t), "Resources"), "ReadPolicy"), "Properties"), "PolicyDocument")
	for _, st := range child(doc, "Statement").Content {
		action := child(st, "Action")
		if action.Kind == yaml.ScalarNode {
			policy = append(policy, action.Value)
		}
		for _, a := range action.Content {
			policy = append(policy, a.Value)
		}
	}
	byStatement := memberActions(t, memberRole(t, "ReaderRole"))
	if got := byStatement["OrganizationMembership"]; !slices.Equal(got, []string{"organizations:DescribeOrganization"}) {
		t.Errorf("OrganizationMembership grants %v, want organizations:DescribeOrganization alone", got)
	}
	delete(byStatement, "OrganizationMembership")
	var reader []string
	for _, actions := range byStatement {
		reader = append(reader, actions...)
	}
	want, got := actionSet(policy), actionSet(reader)
	if len(want) < 25 {
		t.Fatalf("ReadPolicy has only %d actions: %v", len(want), policy)
	}
	for k, a := range want {
		if _, ok := got[k]; !ok {
			t.Errorf("template.yaml's ReadPolicy grants %s; member.yaml's reader does not", a)
		}
	}
	for k, a := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("member.yaml's reader grants %s; template.yaml's ReadPolicy does not", a)
		}
	}
}

// The fixer may make exactly the live writer's calls: the 443 rules, the
// lookup of a rule a retried write added, and the service re-read right
// before UpdateService. No revoke: undo is a person's act.
func TestMemberFixerActionsAreTheWritersCalls(t *testing.T) {
	var fixer []string
	for _, actions := range memberActions(t, memberRole(t, "FixerRole")) {
		fixer = append(fixer, actions...)
	}
	want, got := actionSet(append(apiActions[fix.EC2API]("ec2"), apiActions[fix.ECSAPI]("ecs")...)), actionSet(fixer)
	if !reflect.DeepEqual(want, got) {
		t.Errorf("the fixer grants %v, the live writer calls %v", fixer, want)
	}
	if cond := child(memberRole(t, "FixerRole"), "Condition"); cond == nil || cond.Value != "CreateFixer" {
		t.Errorf("FixerRole's condition is %v, want CreateFixer", cond)
	}
	create := child(child(memberNode(t), "Conditions"), "CreateFixer")
	if create == nil || !refersTo(create, "AutoFix") || !refersTo(create, "CreateRoles") {
		t.Error("CreateFixer must test the AutoFix parameter (and CreateRoles: IAM roles are per account)")
	}
}

// Both member roles trust only the hub's function roles, and only with the
// second guard: the organization (aws:PrincipalOrgID) or an external ID.
func TestMemberRolesTrustOnlyTheHub(t *testing.T) {
	for role, principals := range map[string][]string{
		"ReaderRole": {"HubDiagnoseRoleArn", "HubRemediateRoleArn"},
		"FixerRole":  {"HubRemediateRoleArn"},
	} {
		t.Run(role, func(t *testing.T) {
			trust := child(child(memberRole(t, role), "Properties"), "AssumeRolePolicyDocument")
			statements := child(trust, "Statement").Content
			if len(statements) != 1 {
				t.Fatalf("%d trust statements, want 1", len(statements))
			}
			cond := child(statements[0], "Condition")
			arns := child(child(cond, "ArnEquals"), "aws:PrincipalArn")
			var got []string
			for _, n := range append([]*yaml.Node{arns}, arns.Content...) {
				if n.Tag == "!Ref" {
					got = append(got, n.Value)
				}
			}
			if !slices.Equal(got, principals) {
				t.Errorf("trusts aws:PrincipalArn %v, want %v", got, principals)
			}
			eq := child(cond, "StringEquals")
			for key, param := range map[string]string{"aws:PrincipalOrgID": "OrganizationId", "sts:ExternalId": "ExternalId"} {
				if n := child(eq, key); n == nil || !refersTo(n, param) {
					t.Errorf("trust lacks %s from %s", key, param)
				}
			}
		})
	}
	rule := child(child(memberNode(t), "Rules"), "RolesAreGuarded")
	if rule == nil || !refersTo(rule, "OrganizationId") || !refersTo(rule, "ExternalId") {
		t.Error("member.yaml must refuse a stack with neither OrganizationId nor ExternalId (Rules)")
	}
}

// cfn-lint runs the SAM transform on template.yaml and checks member.yaml as
// CloudFormation: both must be clean.
func TestTemplatesLintClean(t *testing.T) {
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("cfn-lint is not installed: pip install cfn-lint")
		}
		t.Skip("SKIPPED LOUDLY: cfn-lint is not installed (pip install cfn-lint)")
	}
	for _, path := range []string{templatePath, memberPath} {
		out, err := exec.Command(lint, path).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "" {
			t.Errorf("cfn-lint %s: %v\n%s", path, err, out)
		}
	}
}
