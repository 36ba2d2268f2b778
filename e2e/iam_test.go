package e2e

import (
	"bytes"
	"fmt"
	"io"
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

	"gopkg.in/yaml.v3"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/fix"
	"github.com/pullmedic/pullmedic/pkg/notify"
	"github.com/pullmedic/pullmedic/pkg/state"
	"github.com/pullmedic/pullmedic/pkg/triage"
)

// Least privilege, checked against what the functions really do: each
// function's AWS calls go through a recording proxy in front of moto (which
// enforces no IAM), and every call must be granted by the template's role for
// that function.

// awsProxy forwards to moto and records each call as an IAM action.
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

// The SigV4 credential scope ends in REGION/SERVICE/aws4_request; the signing
// name is the IAM service prefix for every service pullmedic calls.
var credentialScope = regexp.MustCompile(`Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request`)

// iamAction names the IAM action of an SDK request: the operation from the
// JSON protocols' X-Amz-Target or the query protocols' Action parameter.
func iamAction(r *http.Request) (string, error) {
	m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return "", fmt.Errorf("unsigned %s %s", r.Method, r.URL.Path)
	}
	service := m[1]
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		return service + ":" + target[strings.LastIndex(target, ".")+1:], nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return "", err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("Action") == "" {
		return "", fmt.Errorf("%s: no operation in %s %s", service, r.Method, r.URL.Path)
	}
	return service + ":" + form.Get("Action"), nil
}

// templateNode is template.yaml as YAML nodes, so that !If branches and !Ref
// are seen as written.
func templateNode(t *testing.T) *yaml.Node {
	t.Helper()
	data, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Content[0]
}

// templateGrants returns the actions the template's role grants a function:
// its inline policies and the managed policies of the template it attaches.
func templateGrants(t *testing.T, function string) []string {
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
	grants := allowedActions(child(role, "Policies"))
	if managed := child(role, "ManagedPolicyArns"); managed != nil {
		for _, ref := range managed.Content {
			if ref.Tag != "!Ref" {
				t.Fatalf("%s: managed policy %q is not one of the template's", roleRef.Value, ref.Value)
			}
			grants = append(grants, allowedActions(child(child(resources, ref.Value), "Properties"))...)
		}
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

// allowedActions collects the Action of every Allow statement below n.
func allowedActions(n *yaml.Node) []string {
	if n == nil {
		return nil
	}
	var out []string
	if effect := child(n, "Effect"); effect != nil && effect.Value == "Allow" {
		action := child(n, "Action")
		if action == nil {
			return nil
		}
		if action.Kind == yaml.ScalarNode {
			out = append(out, action.Value)
		}
		for _, a := range action.Content {
			out = append(out, a.Value)
		}
		return out
	}
	for _, c := range n.Content {
		out = append(out, allowedActions(c)...)
	}
	return out
}

// granted reports whether an action is among the grants (which have no
// wildcards: TestTemplateGrantsNoWildcardActions); IAM ignores case.
func granted(action string, grants []string) bool {
	return slices.ContainsFunc(grants, func(g string) bool { return strings.EqualFold(g, action) })
}

// assertGranted fails for each call that the function's role does not allow.
func assertGranted(t *testing.T, function string, called []string) {
	t.Helper()
	if len(called) == 0 {
		t.Errorf("%s made no AWS call through the proxy", function)
	}
	grants := templateGrants(t, function)
	for _, action := range called {
		if !granted(action, grants) {
			t.Errorf("%s called %s, which template.yaml does not grant it", function, action)
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
	for _, fn := range []string{"DiagnoseFunction", "RemediateFunction"} {
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
// is built from, plus what the Lambda service does with the role.
func TestTemplateGrantsExactlyWhatTheCodeCalls(t *testing.T) {
	common := slices.Concat(
		apiActions[account.ECSAPI]("ecs"), apiActions[account.EC2API]("ec2"), apiActions[account.IAMAPI]("iam"),
		apiActions[account.ECRAPI]("ecr"), apiActions[account.SecretsManagerAPI]("secretsmanager"),
		apiActions[account.SSMAPI]("ssm"), apiActions[state.DynamoDB]("dynamodb"),
		// The runtime's logs, and the on-failure destination.
		[]string{"logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage"},
	)
	want := map[string][]string{
		"DiagnoseFunction": slices.Concat(common, apiActions[notify.SNSPublisher]("sns"),
			apiActions[notify.SecretsAPI]("secretsmanager"), apiActions[triage.Invoker]("lambda")),
		"RemediateFunction": slices.Concat(common, apiActions[fix.Publisher]("sns"),
			apiActions[fix.EC2API]("ec2"), apiActions[fix.ECSAPI]("ecs")),
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
