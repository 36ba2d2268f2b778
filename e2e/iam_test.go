package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"gopkg.in/yaml.v3"

	"github.com/pullmedic/pullmedic/internal/faultproxy"
	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/approve"
	"github.com/pullmedic/pullmedic/pkg/fix"
	"github.com/pullmedic/pullmedic/pkg/notify"
	"github.com/pullmedic/pullmedic/pkg/remediate"
	"github.com/pullmedic/pullmedic/pkg/state"
	"github.com/pullmedic/pullmedic/pkg/triage"
)

// Least privilege, checked against what the functions really do: each
// function's AWS calls go through a recording proxy in front of moto (which
// enforces no IAM), and every call must be granted by the template's role for
// that function, a DynamoDB call also for the item's partition key.

// awsProxy forwards to moto and records each call as an IAM action; a
// DynamoDB call as "ACTION KEY", with the partition key that IAM's
// dynamodb:LeadingKeys sees (see callOf).
type awsProxy struct {
	server  *httptest.Server
	mu      sync.Mutex
	actions []string
}

func newAWSProxy(tb testing.TB, target string) *awsProxy {
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatal(err)
	}
	forward := httputil.NewSingleHostReverseProxy(u)
	p := &awsProxy{}
	p.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		action, err := iamAction(r)
		if err != nil {
			action = "unrecognized call: " + err.Error()
		} else if strings.HasPrefix(action, "dynamodb:") {
			action += " " + partitionKey(r)
		}
		p.mu.Lock()
		if !slices.Contains(p.actions, action) {
			p.actions = append(p.actions, action)
		}
		p.mu.Unlock()
		forward.ServeHTTP(w, r)
	}))
	tb.Cleanup(p.server.Close)
	return p
}

func (p *awsProxy) called() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.actions)
}

// iamAction names the IAM action of an SDK request: "service:Operation".
func iamAction(r *http.Request) (string, error) {
	service, op, err := faultproxy.Operation(r)
	if err != nil {
		return "", err
	}
	return service + ":" + op, nil
}

// stateKey is the state table's partition key (template.yaml's KeySchema).
const stateKey = "pk"

// partitionKey is the partition key of a DynamoDB item call: Key for
// Get/Update/Delete, Item for Put; "" when the body has neither.
func partitionKey(r *http.Request) string {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return ""
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var in struct {
		Key, Item map[string]struct{ S string }
	}
	if json.Unmarshal(body, &in) != nil {
		return ""
	}
	if k := in.Key[stateKey].S; k != "" {
		return k
	}
	return in.Item[stateKey].S
}

// callOf splits a recorded call into its action and, for DynamoDB, its key.
func callOf(call string) (action, key string) {
	action, key, _ = strings.Cut(call, " ")
	return action, key
}

// templateNode is template.yaml as YAML nodes, so that !If branches and !Ref
// are seen as written.
func templateNode(t *testing.T) *yaml.Node { return yamlNode(t, templatePath) }

// yamlNode is a YAML file's document node.
func yamlNode(t *testing.T, path string) *yaml.Node {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Content[0]
}

// statement is one Allow statement of a role, as written.
type statement struct {
	sid     string
	actions []string
	// resource and condition are the statement's Resource and Condition nodes.
	resource, condition *yaml.Node
	// when is the template condition of the !If the statement is under ("" for
	// none); the statement of an !If's else branch has "!" before it.
	when string
}

// roleStatements returns the Allow statements of the template's role for a
// function: its inline policies and the template's managed policies it
// attaches. A statement shape it does not know fails the test, so that no
// grant escapes the checks below.
func roleStatements(t *testing.T, function string) []statement {
	t.Helper()
	resources := child(templateNode(t), "Resources")
	roleRef := child(child(child(resources, function), "Properties"), "Role") // !GetAtt ROLE.Arn
	if roleRef == nil || roleRef.Tag != "!GetAtt" {
		t.Fatalf("%s has no Role: !GetAtt ROLE.Arn", function)
	}
	role := child(child(resources, strings.TrimSuffix(roleRef.Value, ".Arn")), "Properties")
	if role == nil {
		t.Fatalf("role %s of %s not found", roleRef.Value, function)
	}
	// A policy document, and the template condition it is attached under.
	type doc struct {
		node *yaml.Node
		when string
	}
	var docs []doc
	if inline := child(role, "Policies"); inline != nil {
		for _, p := range inline.Content {
			docs = append(docs, doc{child(p, "PolicyDocument"), ""})
		}
	}
	// ManagedPolicyArns is a list of !Ref, or an !If between two such lists
	// (hub mode attaches no ReadPolicy).
	var managed func(n *yaml.Node, when string)
	managed = func(n *yaml.Node, when string) {
		if n.Tag == "!If" && len(n.Content) == 3 {
			managed(n.Content[1], n.Content[0].Value)
			managed(n.Content[2], "!"+n.Content[0].Value)
			return
		}
		for _, ref := range n.Content {
			if ref.Tag != "!Ref" {
				t.Fatalf("%s: managed policy %q is not one of the template's", roleRef.Value, ref.Value)
			}
			docs = append(docs, doc{child(child(child(resources, ref.Value), "Properties"), "PolicyDocument"), when})
		}
	}
	if m := child(role, "ManagedPolicyArns"); m != nil {
		managed(m, "")
	}
	var out []statement
	var add func(n *yaml.Node, when string)
	add = func(n *yaml.Node, when string) {
		switch {
		case n.Tag == "!If" && len(n.Content) == 3:
			add(n.Content[1], n.Content[0].Value)
			add(n.Content[2], "!"+n.Content[0].Value)
		case n.Tag == "!Ref" && n.Value == "AWS::NoValue":
		case n.Kind == yaml.MappingNode && child(n, "Effect") != nil && child(n, "Effect").Value == "Allow":
			st := statement{sid: fmt.Sprintf("at line %d", n.Line), resource: child(n, "Resource"), condition: child(n, "Condition"), when: when}
			if sid := child(n, "Sid"); sid != nil {
				st.sid = sid.Value
			}
			action := child(n, "Action")
			if action == nil {
				t.Errorf("%s: statement %s has no Action", roleRef.Value, st.sid)
				return
			}
			st.actions = []string{action.Value}
			if action.Kind == yaml.SequenceNode {
				st.actions = nil
				for _, a := range action.Content {
					st.actions = append(st.actions, a.Value)
				}
			}
			out = append(out, st)
		default:
			t.Errorf("%s:%d: a policy statement this test cannot read (role %s)", templatePath, n.Line, roleRef.Value)
		}
	}
	for _, d := range docs {
		statements := child(d.node, "Statement")
		if statements == nil || statements.Kind != yaml.SequenceNode {
			t.Fatalf("%s: a policy document without a Statement list", roleRef.Value)
		}
		for _, n := range statements.Content {
			add(n, d.when)
		}
	}
	return out
}

// templateGrants returns the actions the template's role grants a function.
func templateGrants(t *testing.T, function string) []string {
	t.Helper()
	var grants []string
	for _, st := range roleStatements(t, function) {
		grants = append(grants, st.actions...)
	}
	return grants
}

// child returns the value of key in a mapping node.
func child(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// granted reports whether an action is among the grants (which have no
// wildcards: TestTemplateGrantsNoWildcardActions); IAM ignores case.
func granted(action string, grants []string) bool {
	return slices.ContainsFunc(grants, func(g string) bool { return strings.EqualFold(g, action) })
}

// leadingKeys returns the dynamodb:LeadingKeys patterns of a statement's
// ForAllValues:StringLike condition, and whether it has one.
func (st statement) leadingKeys() ([]string, bool) {
	keys := child(child(st.condition, "ForAllValues:StringLike"), "dynamodb:LeadingKeys")
	if keys == nil {
		return nil, false
	}
	if keys.Kind == yaml.ScalarNode {
		return []string{keys.Value}, true
	}
	var out []string
	for _, k := range keys.Content {
		out = append(out, k.Value)
	}
	return out, true
}

// allows reports whether the statement allows an action, and for a DynamoDB
// call on key, whether the key passes its LeadingKeys fence. Other conditions
// (ecs:cluster, kms:ViaService) are not evaluated.
func (st statement) allows(action, key string) bool {
	if !granted(action, st.actions) {
		return false
	}
	patterns, fenced := st.leadingKeys()
	if !fenced {
		return true
	}
	return key != "" && slices.ContainsFunc(patterns, func(p string) bool { return stringLike(p, key) })
}

// stringLike is IAM's StringLike: case-sensitive, * any run, ? one character.
func stringLike(pattern, s string) bool {
	re := regexp.QuoteMeta(pattern)
	re = strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(re)
	return regexp.MustCompile("^" + re + "$").MatchString(s)
}

// assertGranted fails for each call that the function's role does not allow:
// the action, and for DynamoDB the item's key.
func assertGranted(t *testing.T, function string, called []string) {
	t.Helper()
	if len(called) == 0 {
		t.Errorf("%s made no AWS call through the proxy", function)
	}
	statements := roleStatements(t, function)
	for _, call := range called {
		action, key := callOf(call)
		if strings.HasPrefix(action, "dynamodb:") && key == "" {
			t.Errorf("%s called %s without a partition key the proxy could read", function, action)
			continue
		}
		if !slices.ContainsFunc(statements, func(st statement) bool { return st.allows(action, key) }) {
			t.Errorf("%s called %s, which template.yaml does not grant it", function, call)
		}
	}
}

func TestTemplateGrantsNoWildcardActions(t *testing.T) {
	for _, fn := range []string{"DiagnoseFunction", "RemediateFunction"} {
		grants := templateGrants(t, fn)
		if len(grants) < 20 {
			t.Errorf("%s: only %d actions found in its role: %v", fn, len(grants), grants)
		}
		for _, g := range grants {
			if strings.Contains(g, "*") {
				t.Errorf("%s: wildcard action %q", fn, g)
			}
		}
	}
	// Nothing revokes: undo is a person's act.
	for _, fn := range []string{"DiagnoseFunction", "RemediateFunction", "ApproveFunction"} {
		for _, revoke := range []string{"ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress"} {
			if granted(revoke, templateGrants(t, fn)) {
				t.Errorf("%s may %s", fn, revoke)
			}
		}
	}
	// Only remediate writes.
	for _, write := range []string{"ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress", "ecs:UpdateService"} {
		if granted(write, templateGrants(t, "DiagnoseFunction")) {
			t.Errorf("diagnose may %s", write)
		}
		if granted(write, templateGrants(t, "ApproveFunction")) {
			t.Errorf("approve may %s: a click only hands the request to remediate", write)
		}
		if !granted(write, templateGrants(t, "RemediateFunction")) {
			t.Errorf("remediate may not %s", write)
		}
	}
}

// CloudFormation rejects YAML anchors and aliases in a template it is given
// directly, and the walks above do not follow them.
func TestTemplateHasNoYAMLAliases(t *testing.T) {
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Anchor != "" || n.Kind == yaml.AliasNode {
			t.Errorf("%s:%d: YAML anchor or alias %q", templatePath, n.Line, n.Anchor+n.Value)
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(templateNode(t))
}

// apiActions names the IAM actions of an SDK client interface's methods: the
// operation names, which are the action names for every service pullmedic
// calls, except Lambda's Invoke.
func apiActions[API any](service string) []string {
	api := reflect.TypeFor[API]()
	var out []string
	for m := range api.Methods() {
		action := service + ":" + m.Name
		if action == "lambda:Invoke" {
			action = "lambda:InvokeFunction"
		}
		out = append(out, action)
	}
	return out
}

// Exactly the reads, and exactly the writes, the code can make: each
// function's grants are the methods of the narrow SDK interfaces its handler
// is built from, plus what AWS services do with the role on its behalf.
func TestTemplateGrantsExactlyWhatTheCodeCalls(t *testing.T) {
	common := slices.Concat(
		apiActions[account.ECSAPI]("ecs"), apiActions[account.EC2API]("ec2"), apiActions[account.IAMAPI]("iam"),
		apiActions[account.ECRAPI]("ecr"), apiActions[account.SecretsManagerAPI]("secretsmanager"),
		apiActions[account.SSMAPI]("ssm"),
		// The runtime's logs, and the on-failure destination.
		[]string{"logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage"},
		// Hub mode: the member's role (account.Roles through stscreds).
		apiActions[stscreds.AssumeRoleAPIClient]("sts"),
	)
	want := map[string][]string{
		"DiagnoseFunction": slices.Concat(common, apiActions[state.DynamoDB]("dynamodb"),
			apiActions[notify.SNSPublisher]("sns"), apiActions[notify.SecretsAPI]("secretsmanager"),
			apiActions[triage.Invoker]("lambda"),
			// Secrets Manager decrypting the Slack secret with the role's
			// permission, when it has a customer managed key: TestSlackSecretKeyDecrypt.
			[]string{"kms:Decrypt"}),
		"RemediateFunction": slices.Concat(common, apiActions[state.ItemStore]("dynamodb"),
			apiActions[remediate.Publisher]("sns"), apiActions[fix.EC2API]("ec2"), apiActions[fix.ECSAPI]("ecs")),
		// A Function URL's requests are synchronous: no failure queue, and no
		// read of any account. It may decide approvals, invoke remediate and
		// read its signing secret, and nothing else.
		"ApproveFunction": slices.Concat([]string{"logs:CreateLogStream", "logs:PutLogEvents"},
			apiActions[state.ApprovalStore]("dynamodb"), apiActions[approve.Invoker]("lambda"), apiActions[notify.SecretsAPI]("secretsmanager")),
	}
	for fn, actions := range want {
		code, grants := actionSet(actions), actionSet(templateGrants(t, fn))
		for key, a := range code {
			if _, ok := grants[key]; !ok {
				t.Errorf("%s: the code calls %s, which template.yaml does not grant", fn, a)
			}
		}
		for key, a := range grants {
			if _, ok := code[key]; !ok {
				t.Errorf("%s: template.yaml grants %s, which the code never calls", fn, a)
			}
		}
	}
}

// actionSet keys actions by their lower case (IAM ignores case).
func actionSet(actions []string) map[string]string {
	set := map[string]string{}
	for _, a := range actions {
		set[strings.ToLower(a)] = a
	}
	return set
}

// stateFence is what a function may do in the state table, as "ACTION PATTERN"
// (a LeadingKeys pattern), e.g. "dynamodb:putitem event#*".
type stateFence map[string]bool

// wantStateFence derives each function's fence from the code: its own key
// prefixes (state.DiagnoseKeys, state.RemediateKeys, state.ApproveKeys) with
// every method of its DynamoDB interface, and for diagnose GetItem of
// remediate's fixes# and PutItem of a new approval#.
func wantStateFence() map[string]stateFence {
	fence := func(prefixes []string, actions []string) stateFence {
		f := stateFence{}
		for _, p := range prefixes {
			for _, a := range actions {
				f[strings.ToLower(a)+" "+p+"*"] = true
			}
		}
		return f
	}
	diagnose := fence(state.DiagnoseKeys, apiActions[state.DynamoDB]("dynamodb"))
	maps.Copy(diagnose, fence([]string{state.PrefixFixes}, []string{"dynamodb:GetItem"}))
	maps.Copy(diagnose, fence([]string{state.PrefixApproval}, []string{"dynamodb:PutItem"}))
	return map[string]stateFence{
		"DiagnoseFunction":  diagnose,
		"RemediateFunction": fence(state.RemediateKeys, apiActions[state.ItemStore]("dynamodb")),
		"ApproveFunction":   fence(state.ApproveKeys, apiActions[state.ApprovalStore]("dynamodb")),
	}
}

// Each function reaches only its own records in the shared table: every
// DynamoDB statement is fenced with dynamodb:LeadingKeys to the prefixes the
// code names, and the fence admits no key of the other function's.
func TestStateTableFencedByLeadingKeys(t *testing.T) {
	// The fence separates the functions only if no prefix starts another.
	keys := map[string][]string{"DiagnoseFunction": state.DiagnoseKeys, "RemediateFunction": state.RemediateKeys, "ApproveFunction": state.ApproveKeys}
	all := slices.Concat(state.DiagnoseKeys, state.RemediateKeys, state.ApproveKeys)
	for i, a := range all {
		for _, b := range all[i+1:] {
			if strings.HasPrefix(a, b) || strings.HasPrefix(b, a) {
				t.Fatalf("key prefixes %q and %q overlap: no LeadingKeys pattern can tell them apart", a, b)
			}
		}
	}
	want := wantStateFence()
	for fn, wantFence := range want {
		got := stateFence{}
		var statements []statement
		for _, st := range roleStatements(t, fn) {
			if !slices.ContainsFunc(st.actions, func(a string) bool { return strings.HasPrefix(strings.ToLower(a), "dynamodb:") }) {
				continue
			}
			statements = append(statements, st)
			if r := st.resource; r == nil || r.Tag != "!GetAtt" || r.Value != "StateTable.Arn" {
				t.Errorf("%s: statement %s is on %v, want only !GetAtt StateTable.Arn (no index, no other table)", fn, st.sid, r)
			}
			patterns, fenced := st.leadingKeys()
			if !fenced || len(patterns) == 0 {
				t.Errorf("%s: statement %s has no ForAllValues:StringLike dynamodb:LeadingKeys condition", fn, st.sid)
				continue
			}
			// ForAllValues holds for a request without the key (a Scan).
			if null := child(child(st.condition, "Null"), "dynamodb:LeadingKeys"); null == nil || null.Value != "false" {
				t.Errorf("%s: statement %s lacks Null dynamodb:LeadingKeys \"false\", so a call without a key passes the fence", fn, st.sid)
			}
			if st.when != "" {
				t.Errorf("%s: statement %s is conditional (%s); the code always uses the table", fn, st.sid, st.when)
			}
			for _, a := range st.actions {
				for _, p := range patterns {
					got[strings.ToLower(a)+" "+p] = true
				}
			}
		}
		for k := range wantFence {
			if !got[k] {
				t.Errorf("%s: the code calls %s, which template.yaml does not allow", fn, k)
			}
		}
		for k := range got {
			if !wantFence[k] {
				t.Errorf("%s: template.yaml allows %s, which the code never calls", fn, k)
			}
		}

		// The same fence as IAM evaluates it (and as assertGranted applies it
		// to the keys of the e2e run): a key under a prefix of the function's
		// is allowed, one of another function's is not, bar what the fence
		// names (diagnose's read of fixes#, its put of a new approval#).
		own := keys[fn]
		other := slices.DeleteFunc(slices.Clone(all), func(p string) bool { return slices.Contains(own, p) })
		allowed := func(action, key string) bool {
			return slices.ContainsFunc(statements, func(st statement) bool { return st.allows(action, key) })
		}
		for _, action := range apiActions[state.DynamoDB]("dynamodb") {
			for _, p := range own {
				if want := wantFence[strings.ToLower(action)+" "+p+"*"]; allowed(action, p+"c#s") != want {
					t.Errorf("%s: %s on %sc#s allowed = %v, want %v", fn, action, p, !want, want)
				}
			}
			for _, p := range other {
				if want := wantFence[strings.ToLower(action)+" "+p+"*"]; allowed(action, p+"c#s") != want {
					t.Errorf("%s: %s on %sc#s allowed = %v, want %v", fn, action, p, !want, want)
				}
			}
			for _, key := range []string{"", "other#c#s", "x" + own[0]} {
				if allowed(action, key) {
					t.Errorf("%s: %s on %q allowed, want refused", fn, action, key)
				}
			}
		}
	}
}

// The Slack secret's customer managed key: kms:Decrypt only when the key's
// parameter is set, on that key, only through Secrets Manager for the secret.
func TestSlackSecretKeyDecrypt(t *testing.T) {
	tpl := templateNode(t)
	param := child(child(tpl, "Parameters"), "SlackSecretKmsKeyArn")
	if param == nil || child(param, "Default") == nil || child(param, "Default").Value != "" {
		t.Fatal(`parameter SlackSecretKmsKeyArn with Default "" not found`)
	}
	var decrypts []statement
	for _, st := range roleStatements(t, "DiagnoseFunction") {
		if granted("kms:Decrypt", st.actions) {
			decrypts = append(decrypts, st)
		}
	}
	if len(decrypts) != 1 {
		t.Fatalf("diagnose has %d kms:Decrypt statements, want 1", len(decrypts))
	}
	st := decrypts[0]
	if len(st.actions) != 1 {
		t.Errorf("%s grants %v, want kms:Decrypt alone", st.sid, st.actions)
	}
	if r := st.resource; r == nil || r.Tag != "!Ref" || r.Value != "SlackSecretKmsKeyArn" {
		t.Errorf("%s is on %v, want !Ref SlackSecretKmsKeyArn", st.sid, r)
	}
	// Conditional on the parameter: an empty ARN must leave no statement.
	cond := child(child(tpl, "Conditions"), st.when)
	if st.when == "" || cond == nil {
		t.Fatalf("%s is not under an !If on a template condition (when %q)", st.sid, st.when)
	}
	if !refersTo(cond, "SlackSecretKmsKeyArn") || !refersTo(cond, "HasSlackSecret") {
		t.Errorf("condition %s does not test both SlackSecretKmsKeyArn and HasSlackSecret", st.when)
	}
	eq := child(st.condition, "StringEquals")
	if via := child(eq, "kms:ViaService"); via == nil || via.Tag != "!Sub" || via.Value != "secretsmanager.${AWS::Region}.amazonaws.com" {
		t.Errorf("%s: kms:ViaService is %v, want !Sub secretsmanager.${AWS::Region}.amazonaws.com", st.sid, via)
	}
	if arn := child(eq, "kms:EncryptionContext:SecretARN"); arn == nil || arn.Tag != "!Ref" || arn.Value != "SlackWebhookSecretArn" {
		t.Errorf("%s: kms:EncryptionContext:SecretARN is %v, want !Ref SlackWebhookSecretArn", st.sid, arn)
	}
	if granted("kms:Decrypt", templateGrants(t, "RemediateFunction")) {
		t.Error("remediate may kms:Decrypt; it reads no secret")
	}
}

// refersTo reports whether a condition refers to name, by !Ref or !Condition.
func refersTo(n *yaml.Node, name string) bool {
	if (n.Tag == "!Ref" || n.Tag == "!Condition") && n.Value == name {
		return true
	}
	return slices.ContainsFunc(n.Content, func(c *yaml.Node) bool { return refersTo(c, name) })
}
