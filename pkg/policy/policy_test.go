package policy

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestPolicyParse(t *testing.T) {
	const single = `{"Version":"2012-10-17","Statement":{"Sid":"One","Effect":"allow","Action":"ecr:BatchGetImage","Resource":"*"}}`
	tests := []struct {
		name    string
		doc     string
		want    []Statement // nil: only check the error
		wantErr string
	}{
		{
			name: "statement object, strings",
			doc:  single,
			want: []Statement{{Sid: "One", Effect: EffectAllow, Action: StringList{"ecr:BatchGetImage"}, Resource: StringList{"*"}}},
		},
		{
			name: "url-encoded",
			doc:  url.QueryEscape(single),
			want: []Statement{{Sid: "One", Effect: EffectAllow, Action: StringList{"ecr:BatchGetImage"}, Resource: StringList{"*"}}},
		},
		{
			name: "url-encoded with spaces as %20",
			doc:  "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%20%22Deny%22%2C%22NotAction%22%3A%5B%22s3%3A*%22%5D%2C%22NotResource%22%3A%22arn%3Aaws%3As3%3A%3A%3Ab%22%7D%5D%7D",
			want: []Statement{{Effect: EffectDeny, NotAction: StringList{"s3:*"}, NotResource: StringList{"arn:aws:s3:::b"}}},
		},
		{
			name: "principal star and arrays",
			doc:  `{"Statement":[{"Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}`,
			want: []Statement{{Effect: EffectAllow, Principal: Principal{"AWS": {"*"}}, Action: StringList{"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}}},
		},
		{
			name: "principal object with string and list, NotPrincipal",
			doc:  `{"Statement":[{"Effect":"Deny","Principal":{"AWS":["111122223333"],"Service":"ecs-tasks.amazonaws.com"},"NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"*"}]}`,
			want: []Statement{{Effect: EffectDeny,
				Principal:    Principal{"AWS": {"111122223333"}, "Service": {"ecs-tasks.amazonaws.com"}},
				NotPrincipal: Principal{"AWS": {"arn:aws:iam::111122223333:root"}},
				Action:       StringList{"*"}}},
		},
		{
			name: "null elements are absent",
			doc:  `{"Statement":[{"Effect":"Allow","Principal":null,"Action":"*","Resource":null}]}`,
			want: []Statement{{Effect: EffectAllow, Action: StringList{"*"}}},
		},
		{
			name: "condition kept raw",
			doc:  `{"Statement":[{"Effect":"Allow","Action":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}]}`,
			want: []Statement{{Effect: EffectAllow, Action: StringList{"*"}, Condition: []byte(`{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}`)}},
		},
		{name: "empty statement list", doc: `{"Statement":[]}`, want: []Statement{}},
		{name: "empty", doc: "  ", wantErr: "empty document"},
		{name: "invalid json", doc: `{"Statement":[`, wantErr: "invalid JSON"},
		{name: "not json at all", doc: "hello", wantErr: "invalid JSON"},
		{name: "bad escape", doc: "%zz", wantErr: "not JSON and not URL-encoded"},
		{name: "no statement", doc: `{"Version":"2012-10-17"}`, wantErr: "no Statement"},
		{name: "bad effect", doc: `{"Statement":{"Sid":"X","Effect":"Maybe","Action":"*"}}`, wantErr: `statement X: Effect "Maybe"`},
		{name: "missing effect", doc: `{"Statement":[{"Action":"*"}]}`, wantErr: "statement Statement[0]"},
		{name: "action is a number", doc: `{"Statement":{"Effect":"Allow","Action":7}}`, wantErr: "string or an array"},
		{name: "principal string not star", doc: `{"Statement":{"Effect":"Allow","Principal":"me","Action":"*"}}`, wantErr: `principal "me"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse(tc.doc)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Parse error = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(d.Statements, tc.want) {
				t.Errorf("statements = %#v\nwant %#v", d.Statements, tc.want)
			}
		})
	}
}

func TestPolicyHasCondition(t *testing.T) {
	for cond, want := range map[string]bool{"": false, "null": false, " {} ": false, `{"Bool":{"aws:SecureTransport":"true"}}`: true} {
		s := Statement{Condition: []byte(cond)}
		if got := s.HasCondition(); got != want {
			t.Errorf("HasCondition(%q) = %v, want %v", cond, got, want)
		}
	}
}

func TestPolicyFindAndAnyone(t *testing.T) {
	d, err := Parse(`{"Statement":[{"Sid":"Named","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"*"},{"Effect":"Deny","Principal":"*","Action":"*"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		label      string
		wantEffect string
		anyone     bool
	}{
		{"Named", EffectAllow, false},
		{"Statement[1]", EffectDeny, true},
	}
	for _, tc := range tests {
		st := d.Find(tc.label)
		if st == nil || st.Effect != tc.wantEffect || st.Principal.Anyone() != tc.anyone {
			t.Errorf("Find(%q) = %+v, want effect %s anyone %v", tc.label, st, tc.wantEffect, tc.anyone)
		}
	}
	if d.Find("Statement[0]") != nil || d.Find("missing") != nil {
		t.Error("Find matched a statement by the wrong label")
	}
	var nilDoc *Document
	if nilDoc.Find("Named") != nil {
		t.Error("nil document found a statement")
	}
}
