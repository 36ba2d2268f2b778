package policy

import "testing"

const (
	repoARN  = "arn:aws:ecr:eu-west-1:111122223333:repository/team/app"
	roleARN  = "arn:aws:iam::444455556666:role/service-role/exec"
	session  = "arn:aws:sts::444455556666:assumed-role/exec/ecs-task-1"
	otherARN = "arn:aws:iam::444455556666:role/other"
)

func mustParse(t *testing.T, name, doc string) *Document {
	t.Helper()
	d, err := Parse(doc)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	d.Name = name
	return d
}

func TestPolicyEvaluate(t *testing.T) {
	pull := Request{Action: "ecr:BatchGetImage", Resource: repoARN}
	tests := []struct {
		name       string
		doc        string
		req        Request
		want       Decision
		wantStmt   string
		wantCondit bool
	}{
		{"exact action", `{"Statement":{"Sid":"A","Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"` + repoARN + `"}}`, pull, Allow, "A", false},
		{"action case-insensitive", `{"Statement":{"Effect":"Allow","Action":"ECR:batchgetimage","Resource":"*"}}`, pull, Allow, "Statement[0]", false},
		{"action star wildcard", `{"Statement":{"Effect":"Allow","Action":"ecr:Batch*","Resource":"*"}}`, pull, Allow, "Statement[0]", false},
		{"action question wildcard", `{"Statement":{"Effect":"Allow","Action":"ecr:BatchGetImag?","Resource":"*"}}`, pull, Allow, "Statement[0]", false},
		{"service wildcard does not cross services", `{"Statement":{"Effect":"Allow","Action":"ecs:*","Resource":"*"}}`, pull, ImplicitDeny, "", false},
		{"question matches exactly one", `{"Statement":{"Effect":"Allow","Action":"ecr:BatchGetImage?","Resource":"*"}}`, pull, ImplicitDeny, "", false},
		{"resource wildcard spans slashes", `{"Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:111122223333:repository/*"}}`, pull, Allow, "Statement[0]", false},
		{"resource case-sensitive", `{"Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:eu-west-1:111122223333:repository/Team/app"}}`, pull, ImplicitDeny, "", false},
		{"other repository", `{"Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:eu-west-1:111122223333:repository/team/app2"}}`, pull, ImplicitDeny, "", false},
		{"NotAction allows everything else", `{"Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`, pull, Allow, "Statement[0]", false},
		{"NotAction excludes the action", `{"Statement":{"Effect":"Allow","NotAction":["ecr:Batch*"],"Resource":"*"}}`, pull, ImplicitDeny, "", false},
		{"NotResource excludes", `{"Statement":{"Effect":"Allow","Action":"*","NotResource":"arn:aws:ecr:*:*:repository/team/*"}}`, pull, ImplicitDeny, "", false},
		{"NotResource includes", `{"Statement":{"Effect":"Allow","Action":"*","NotResource":"arn:aws:s3:::*"}}`, pull, Allow, "Statement[0]", false},
		{"explicit deny wins whatever the order", `{"Statement":[{"Sid":"D","Effect":"Deny","Action":"ecr:*","Resource":"*"},{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"}]}`, pull, Deny, "D", false},
		{"deny via NotAction", `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"D","Effect":"Deny","NotAction":"s3:*","Resource":"*"}]}`, pull, Deny, "D", false},
		{"unconditional allow preferred", `{"Statement":[{"Sid":"C","Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}},{"Sid":"U","Effect":"Allow","Action":"ecr:*","Resource":"*"}]}`, pull, Allow, "U", false},
		{"only conditional allow", `{"Statement":[{"Sid":"C","Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`, pull, Allow, "C", true},
		{"conditional deny beats allow", `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"CD","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-1"}}}]}`, pull, Deny, "CD", true},
		{"no action element matches nothing", `{"Statement":{"Effect":"Allow","Resource":"*"}}`, pull, ImplicitDeny, "", false},
		{"empty statements", `{"Statement":[]}`, pull, ImplicitDeny, "", false},
		// Resource policies: Resource omitted, principal matched.
		{"principal star", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}}`, Request{Action: "ecr:BatchGetImage", Principal: roleARN}, Allow, "Statement[0]", false},
		{"principal AWS star", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"ecr:*"}}`, Request{Action: "ecr:BatchGetImage", Principal: roleARN}, Allow, "Statement[0]", false},
		{"principal account id", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"ecr:*"}}`, Request{Action: "ecr:BatchGetImage", Principal: roleARN}, Allow, "Statement[0]", false},
		{"principal account root", `{"Statement":{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:root"]},"Action":"ecr:*"}}`, Request{Action: "ecr:BatchGetImage", Principal: roleARN}, Allow, "Statement[0]", false},
		{"principal other account", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::777788889999:root"},"Action":"ecr:*"}}`, Request{Action: "ecr:BatchGetImage", Principal: roleARN}, ImplicitDeny, "", false},
		{"principal exact role", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"` + roleARN + `"},"Action":"ecr:*"}}`, Request{Action: "ecr:BatchGetImage", Principal: roleARN}, Allow, "Statement[0]", false},
		{"principal other role", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"` + otherARN + `"},"Action":"ecr:*"}}`, Request{Action: "ecr:BatchGetImage", Principal: roleARN}, ImplicitDeny, "", false},
		{"role principal matches its session", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"` + roleARN + `"},"Action":"ecr:*"}}`, Request{Action: "ecr:BatchGetImage", Principal: session}, Allow, "Statement[0]", false},
		{"other role does not match session", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"` + otherARN + `"},"Action":"ecr:*"}}`, Request{Action: "ecr:BatchGetImage", Principal: session}, ImplicitDeny, "", false},
		{"account matches session", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"ecr:*"}}`, Request{Action: "ecr:BatchGetImage", Principal: session}, Allow, "Statement[0]", false},
		{"account as caller needs account grant", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"` + roleARN + `"},"Action":"ecr:*"}}`, Request{Action: "ecr:BatchGetImage", Principal: "444455556666"}, ImplicitDeny, "", false},
		{"NotPrincipal excludes the caller", `{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"` + roleARN + `"},"Action":"ecr:*"}}`, Request{Action: "ecr:BatchGetImage", Principal: roleARN}, ImplicitDeny, "", false},
		{"NotPrincipal applies to others", `{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"` + otherARN + `"},"Action":"ecr:*"}}`, Request{Action: "ecr:BatchGetImage", Principal: roleARN}, Deny, "Statement[0]", false},
		{"service principal for trust", `{"Statement":{"Effect":"Allow","Principal":{"Service":["ecs-tasks.amazonaws.com"]},"Action":"sts:AssumeRole"}}`, Request{Action: "sts:AssumeRole", Principal: "ecs-tasks.amazonaws.com"}, Allow, "Statement[0]", false},
		{"wrong service principal", `{"Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}`, Request{Action: "sts:AssumeRole", Principal: "ecs-tasks.amazonaws.com"}, ImplicitDeny, "", false},
		{"service name is not an account", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole"}}`, Request{Action: "sts:AssumeRole", Principal: "ecs-tasks.amazonaws.com"}, ImplicitDeny, "", false},
		{"anonymous matches star", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}}`, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Principal: Anonymous}, Allow, "Statement[0]", false},
		{"anonymous is no account", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:*","Resource":"*"}}`, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Principal: Anonymous}, ImplicitDeny, "", false},
		{"anonymous is denied by NotPrincipal", `{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"444455556666"},"Action":"s3:*","Resource":"*"}}`, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Principal: Anonymous}, Deny, "Statement[0]", false},
		{"identity request ignores principal", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"` + otherARN + `"},"Action":"ecr:*","Resource":"*"}}`, pull, Allow, "Statement[0]", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mustParse(t, "p", tc.doc).Evaluate(tc.req)
			if got.Decision != tc.want || got.Statement != tc.wantStmt || got.Conditional != tc.wantCondit {
				t.Errorf("Evaluate = %+v, want decision %s statement %q conditional %v", got, tc.want, tc.wantStmt, tc.wantCondit)
			}
			if tc.want != ImplicitDeny && got.Policy != "p" {
				t.Errorf("Policy = %q, want the document name", got.Policy)
			}
		})
	}
}

func TestPolicyEvaluateNil(t *testing.T) {
	var d *Document
	if got := d.Evaluate(Request{Action: "ecr:BatchGetImage"}); got.Decision != ImplicitDeny {
		t.Errorf("nil document: %+v", got)
	}
}

func TestPolicyEvaluateAll(t *testing.T) {
	const (
		allowECR  = `{"Statement":{"Sid":"ECR","Effect":"Allow","Action":"ecr:*","Resource":"*"}}`
		allowLogs = `{"Statement":{"Sid":"Logs","Effect":"Allow","Action":"logs:*","Resource":"*"}}`
		denyBatch = `{"Statement":{"Sid":"NoBatch","Effect":"Deny","Action":"ecr:BatchGetImage","Resource":"*"}}`
		condECR   = `{"Statement":{"Sid":"Cond","Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpc":"vpc-1"}}}}`
	)
	pull := Request{Action: "ecr:BatchGetImage", Resource: repoARN}
	tests := []struct {
		name         string
		identity     []string
		boundary     string
		want         Decision
		wantPolicy   string
		wantBoundary bool
		wantCondit   bool
	}{
		{name: "no policies", want: ImplicitDeny},
		{name: "union of allows", identity: []string{allowLogs, allowECR}, want: Allow, wantPolicy: "id1"},
		{name: "none allows", identity: []string{allowLogs}, want: ImplicitDeny},
		{name: "deny in another policy wins", identity: []string{allowECR, denyBatch}, want: Deny, wantPolicy: "id1"},
		{name: "boundary allows", identity: []string{allowECR}, boundary: allowECR, want: Allow, wantPolicy: "id0"},
		{name: "boundary does not allow", identity: []string{allowECR}, boundary: allowLogs, want: ImplicitDeny, wantPolicy: "boundary", wantBoundary: true},
		{name: "boundary denies", identity: []string{allowECR}, boundary: denyBatch, want: Deny, wantPolicy: "boundary", wantBoundary: true},
		{name: "boundary alone grants nothing", boundary: allowECR, want: ImplicitDeny},
		{name: "conditional boundary makes allow conditional", identity: []string{allowECR}, boundary: condECR, want: Allow, wantPolicy: "id0", wantCondit: true},
		{name: "identity deny reported before boundary", identity: []string{denyBatch, allowECR}, boundary: allowLogs, want: Deny, wantPolicy: "id0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ids []*Document
			for i, doc := range tc.identity {
				ids = append(ids, mustParse(t, "id"+string(rune('0'+i)), doc))
			}
			var b *Document
			if tc.boundary != "" {
				b = mustParse(t, "boundary", tc.boundary)
			}
			got := EvaluateAll(ids, b, pull)
			if got.Decision != tc.want || got.Policy != tc.wantPolicy || got.Boundary != tc.wantBoundary || got.Conditional != tc.wantCondit {
				t.Errorf("EvaluateAll = %+v, want %s policy %q boundary %v conditional %v", got, tc.want, tc.wantPolicy, tc.wantBoundary, tc.wantCondit)
			}
		})
	}
}

func TestPolicyGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"", "", true},
		{"", "a", false},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"*b", "*xb", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b/c", true},
		{"é?", "éé", true},
	}
	for _, tc := range tests {
		if got := glob(tc.pattern, tc.s, false); got != tc.want {
			t.Errorf("glob(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}
