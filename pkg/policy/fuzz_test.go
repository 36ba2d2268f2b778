package policy

import "testing"

// FuzzParse: Parse and Evaluate never panic, and a parsed document only
// yields the three decisions. Seeds live in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add(`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)
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
			{Action: "ecr:GetDownloadUrlForLayer", Principal: "arn:aws:sts::111122223333:assumed-role/exec/s"},
		} {
			switch got := EvaluateAll([]*Document{d}, d, r); got.Decision {
			case Allow, Deny, ImplicitDeny:
			default:
				t.Fatalf("unexpected decision %+v", got)
			}
		}
	})
}
