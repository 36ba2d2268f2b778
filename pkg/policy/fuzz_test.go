package policy

import "testing"

// FuzzParse: Parse and Evaluate never panic, and a parsed document only
// yields the three decisions. Seeds live in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add(`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)
	f.Add(`{"Statement":{"Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"ForAnyValue:StringNotEqualsIfExists":{"aws:SourceVpce":["vpce-1",true]},"Null":{"aws:SourceVpc":"false"}}}}`)
	f.Fuzz(func(t *testing.T, doc string) {
		d, err := Parse(doc)
		if err != nil {
			if d != nil {
				t.Fatalf("Parse returned a document with error %v", err)
			}
			return
		}
		for _, r := range []Request{
			{Action: "ecr:BatchGetImage", Resource: "arn:aws:ecr:eu-west-1:111122223333:repository/app"},
			{Action: "sts:AssumeRole", Principal: "ecs-tasks.amazonaws.com"},
			{Action: "ecr:GetDownloadUrlForLayer", Principal: "arn:aws:sts::111122223333:assumed-role/exec/s",
				Context: Context{KeySourceVpce: Absent, KeySourceVpc: Is("vpc-1"), KeyPrincipalArn: Is("arn:aws:iam::111122223333:role/exec")}},
		} {
			switch got := EvaluateAll([]*Document{d}, d, r); got.Decision {
			case Allow, Deny, ImplicitDeny:
			default:
				t.Fatalf("unexpected decision %+v", got)
			}
		}
	})
}
