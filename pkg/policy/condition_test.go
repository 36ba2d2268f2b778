package policy

import (
	"reflect"
	"testing"
)

func TestPolicyCondition(t *testing.T) {
	// The pull through NAT: no endpoint keys; the role is known, its organization is not.
	nat := Context{KeySourceVpce: Absent, KeySourceVpc: Absent, KeyPrincipalArn: Is(roleARN), KeyPrincipalAccount: Is("444455556666")}
	// The pull through interface endpoint vpce-1 of vpc-1.
	vpce := Context{KeySourceVpce: Is("vpce-1"), KeySourceVpc: Is("vpc-1"), KeyPrincipalArn: Is(roleARN), KeyPrincipalAccount: Is("444455556666")}
	tests := []struct {
		name        string
		cond        string
		ctx         Context
		want        truth
		wantDecided []string
		wantOpen    []string
	}{
		{"StringEquals on a present key", `{"StringEquals":{"aws:SourceVpce":"vpce-1"}}`, vpce, isTrue, []string{"aws:SourceVpce"}, nil},
		{"StringEquals on another value", `{"StringEquals":{"aws:SourceVpce":"vpce-2"}}`, vpce, isFalse, nil, nil},
		{"StringEquals values are ORed", `{"StringEquals":{"aws:SourceVpce":["vpce-2","vpce-1"]}}`, vpce, isTrue, []string{"aws:SourceVpce"}, nil},
		{"StringEquals is case-sensitive", `{"StringEquals":{"aws:SourceVpce":"VPCE-1"}}`, vpce, isFalse, nil, nil},
		{"StringEqualsIgnoreCase", `{"StringEqualsIgnoreCase":{"aws:SourceVpce":"VPCE-1"}}`, vpce, isTrue, []string{"aws:SourceVpce"}, nil},
		{"StringEquals on an absent key is false", `{"StringEquals":{"aws:SourceVpce":"vpce-1"}}`, nat, isFalse, nil, nil},
		{"StringNotEquals on an absent key is true", `{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}`, nat, isTrue, []string{"aws:SourceVpce"}, nil},
		{"StringNotEquals values are NORed", `{"StringNotEquals":{"aws:SourceVpce":["vpce-2","vpce-1"]}}`, vpce, isFalse, nil, nil},
		{"StringNotEquals another value", `{"StringNotEquals":{"aws:SourceVpc":"vpc-9"}}`, vpce, isTrue, []string{"aws:SourceVpc"}, nil},
		{"StringEqualsIfExists on an absent key is true", `{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1"}}`, nat, isTrue, []string{"aws:SourceVpce"}, nil},
		{"StringEqualsIfExists on a present key tests it", `{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-2"}}`, vpce, isFalse, nil, nil},
		{"StringNotEqualsIfExists on an absent key is true", `{"StringNotEqualsIfExists":{"aws:SourceVpce":"vpce-1"}}`, nat, isTrue, []string{"aws:SourceVpce"}, nil},
		{"StringLike wildcard", `{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::444455556666:role/*"}}`, nat, isTrue, []string{"aws:PrincipalArn"}, nil},
		{"StringNotLike wildcard", `{"StringNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/ci-*"}}`, nat, isTrue, []string{"aws:PrincipalArn"}, nil},
		{"StringNotLike on an absent key is true", `{"StringNotLike":{"aws:SourceVpc":"vpc-*"}}`, nat, isTrue, []string{"aws:SourceVpc"}, nil},
		{"ArnEquals exact", `{"ArnEquals":{"aws:PrincipalArn":"` + roleARN + `"}}`, nat, isTrue, []string{"aws:PrincipalArn"}, nil},
		{"ArnLike per field", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/service-role/*"}}`, nat, isTrue, []string{"aws:PrincipalArn"}, nil},
		{"ArnLike star does not cross fields", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:*:role/service-role/exec"}}`, nat, isFalse, nil, nil},
		{"ArnNotLike another role", `{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/other"}}`, nat, isTrue, []string{"aws:PrincipalArn"}, nil},
		{"ArnNotEquals the role", `{"ArnNotEquals":{"aws:PrincipalArn":"` + roleARN + `"}}`, nat, isFalse, nil, nil},
		{"account match", `{"StringEquals":{"aws:PrincipalAccount":["111122223333","444455556666"]}}`, nat, isTrue, []string{"aws:PrincipalAccount"}, nil},
		{"Null true on an absent key", `{"Null":{"aws:SourceVpce":"true"}}`, nat, isTrue, []string{"aws:SourceVpce"}, nil},
		{"Null false on an absent key", `{"Null":{"aws:SourceVpce":false}}`, nat, isFalse, nil, nil},
		{"Null false on a present key", `{"Null":{"aws:SourceVpce":"false"}}`, vpce, isTrue, []string{"aws:SourceVpce"}, nil},
		{"Null with a value that is no boolean", `{"Null":{"aws:SourceVpce":"maybe"}}`, vpce, unknown, nil, []string{"Null aws:SourceVpce"}},
		{"ForAnyValue on an absent key is false", `{"ForAnyValue:StringNotEquals":{"aws:SourceVpce":"vpce-1"}}`, nat, isFalse, nil, nil},
		{"ForAnyValue beats IfExists on an absent key", `{"ForAnyValue:StringEqualsIfExists":{"aws:SourceVpce":"vpce-1"}}`, nat, isFalse, nil, nil},
		{"ForAllValues on an absent key is true", `{"ForAllValues:StringEquals":{"aws:SourceVpce":"vpce-1"}}`, nat, isTrue, []string{"aws:SourceVpce"}, nil},
		{"ForAnyValue on one value is the plain test", `{"ForAnyValue:StringEquals":{"aws:SourceVpce":"vpce-1"}}`, vpce, isTrue, []string{"aws:SourceVpce"}, nil},
		{"ForAllValues on one value is the plain test", `{"ForAllValues:StringNotEquals":{"aws:SourceVpce":"vpce-1"}}`, vpce, isFalse, nil, nil},
		{"operator names ignore case", `{"stringnotequals":{"AWS:SOURCEVPCE":"vpce-1"}}`, nat, isTrue, []string{"AWS:SOURCEVPCE"}, nil},
		{"unknown key stays open", `{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}`, nat, unknown, nil, []string{"StringEquals aws:PrincipalOrgID"}},
		{"known organization is decided", `{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}`, Context{KeyPrincipalOrgID: Is("o-2")}, isFalse, nil, nil},
		{"unknown operator stays open", `{"Bool":{"aws:SourceVpce":"true"}}`, nat, unknown, nil, []string{"Bool aws:SourceVpce"}},
		{"IfExists on Null stays open", `{"NullIfExists":{"aws:SourceVpce":"true"}}`, nat, unknown, nil, []string{"NullIfExists aws:SourceVpce"}},
		{"set qualifier on Null stays open", `{"ForAnyValue:Null":{"aws:SourceVpce":"true"}}`, nat, unknown, nil, []string{"ForAnyValue:Null aws:SourceVpce"}},
		{"policy variable stays open", `{"StringEquals":{"aws:PrincipalArn":"${aws:SourceArn}"}}`, nat, unknown, nil, []string{"StringEquals aws:PrincipalArn"}},
		{"number value stays open", `{"StringEquals":{"aws:SourceVpce":7}}`, nat, unknown, nil, []string{"StringEquals aws:SourceVpce"}},
		{"nil context decides nothing", `{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}`, nil, unknown, nil, []string{"StringNotEquals aws:SourceVpce"}},
		{"keys are ANDed: one false decides", `{"StringEquals":{"aws:PrincipalOrgID":"o-1","aws:SourceVpce":"vpce-9"}}`, vpce, isFalse, nil, nil},
		{"operators are ANDed: open stays open", `{"StringEquals":{"aws:SourceVpce":"vpce-1"},"StringLike":{"aws:PrincipalOrgID":"o-*"}}`, vpce, unknown, []string{"aws:SourceVpce"}, []string{"StringLike aws:PrincipalOrgID"}},
		{"all tests true", `{"StringEquals":{"aws:SourceVpce":"vpce-1"},"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::444455556666:role/*"}}`, vpce, isTrue, []string{"aws:PrincipalArn", "aws:SourceVpce"}, nil},
		{"malformed block stays open", `["StringEquals"]`, vpce, unknown, nil, []string{"malformed Condition"}},
		{"no condition holds", ``, nil, isTrue, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Statement{Condition: []byte(tc.cond)}
			got := s.evalCondition(tc.ctx)
			// Decided keys are reported with what the context held for them.
			var decided []string
			for _, k := range tc.wantDecided {
				decided = append(decided, tc.ctx.Describe(k))
			}
			if got.holds != tc.want || !reflect.DeepEqual(got.decided, decided) || !reflect.DeepEqual(got.open, tc.wantOpen) {
				t.Errorf("evalCondition(%s) = %+v, want holds %d decided %q open %q", tc.cond, got, tc.want, decided, tc.wantOpen)
			}
		})
	}
}

func TestPolicyEvaluateWithContext(t *testing.T) {
	const denyOutsideVpce = `{"Statement":[{"Sid":"Pull","Effect":"Allow","Principal":"*","Action":"ecr:*"},` +
		`{"Sid":"OnlyVpce","Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}}]}`
	const allowFromVpce = `{"Statement":[{"Sid":"FromVpce","Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}},` +
		`{"Sid":"Org","Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}]}`
	pull := func(ctx Context) Request {
		return Request{Action: "ecr:BatchGetImage", Resource: repoARN, Principal: roleARN, Context: ctx}
	}
	tests := []struct {
		name          string
		doc           string
		req           Request
		want          Decision
		wantStmt      string
		wantCondit    bool
		wantDecided   []string
		wantUndecided []string
	}{
		{"deny outside the endpoint applies on a NAT path", denyOutsideVpce, pull(Context{KeySourceVpce: Absent}), Deny, "OnlyVpce", false, []string{"aws:SourceVpce absent"}, nil},
		{"deny outside the endpoint does not apply through it", denyOutsideVpce, pull(Context{KeySourceVpce: Is("vpce-1")}), Allow, "Pull", false, nil, nil},
		{"deny outside the endpoint stays conditional when the path is unknown", denyOutsideVpce, pull(nil), Deny, "OnlyVpce", true, nil, []string{"StringNotEquals aws:SourceVpce"}},
		{"allow from the endpoint through it", allowFromVpce, pull(Context{KeySourceVpce: Is("vpce-1")}), Allow, "FromVpce", false, []string{`aws:SourceVpce = "vpce-1"`}, nil},
		{"allow from the endpoint on a NAT path leaves only the open organization grant", allowFromVpce, pull(Context{KeySourceVpce: Absent}), Allow, "Org", true, nil, []string{"StringEquals aws:PrincipalOrgID"}},
		{"known organization outside the grant denies implicitly", allowFromVpce, pull(Context{KeySourceVpce: Absent, KeyPrincipalOrgID: Is("o-2")}), ImplicitDeny, "", false, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mustParse(t, "p", tc.doc).Evaluate(tc.req)
			if got.Decision != tc.want || got.Statement != tc.wantStmt || got.Conditional != tc.wantCondit ||
				!reflect.DeepEqual(got.Decided, tc.wantDecided) || !reflect.DeepEqual(got.Undecided, tc.wantUndecided) {
				t.Errorf("Evaluate = %+v, want %s statement %q conditional %v decided %q undecided %q",
					got, tc.want, tc.wantStmt, tc.wantCondit, tc.wantDecided, tc.wantUndecided)
			}
		})
	}
}

func TestPolicyContextDescribe(t *testing.T) {
	ctx := Context{KeySourceVpce: Absent, "AWS:SOURCEVPC": Is("vpc-1")}
	for key, want := range map[string]string{
		KeySourceVpce:     "aws:SourceVpce absent",
		KeySourceVpc:      `aws:SourceVpc = "vpc-1"`,
		KeyPrincipalOrgID: "aws:PrincipalOrgID unknown",
	} {
		if got := ctx.Describe(key); got != want {
			t.Errorf("Describe(%s) = %q, want %q", key, got, want)
		}
	}
}
