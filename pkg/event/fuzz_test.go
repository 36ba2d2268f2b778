package event

import (
	"errors"
	"strings"
	"testing"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/ and run with plain go test.

func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		task, err := Parse(data)
		var ie *InputError
		switch {
		case errors.As(err, &ie):
			if task != nil || ie.Msg == "" {
				t.Fatalf("refusal %q came with task %+v", ie.Msg, task)
			}
		case err == nil || errors.Is(err, ErrNothingToDiagnose):
			if task == nil || task.LastStatus != "STOPPED" || !strings.HasPrefix(task.TaskArn, "arn:") || task.Class == "" {
				t.Fatalf("accepted a task that breaks Parse's promises: %+v", task)
			}
			if (err == nil) != IsPullFailure(task.Failure) {
				t.Fatalf("err %v for failure %q", err, task.Failure)
			}
		default:
			t.Fatalf("unexpected error type %T: %v", err, err)
		}
	})
}

func FuzzClassify(f *testing.F) {
	classes := map[ReasonClass]bool{ClassNetwork: true, ClassDNS: true, ClassIAM: true, ClassImage: true, ClassRegistry: true, ClassHost: true, ClassUnknown: true}
	f.Fuzz(func(t *testing.T, reason string) {
		class, host := Classify(reason)
		if !classes[class] {
			t.Fatalf("class %q is not one of the seven", class)
		}
		if host != "" && !strings.Contains(normalize(reason), host) {
			t.Fatalf("host %q does not occur in %q", host, reason)
		}
	})
}

func FuzzParseImageRef(f *testing.F) {
	f.Fuzz(func(t *testing.T, ref string) {
		r, err := ParseImageRef(ref)
		if err != nil {
			return
		}
		if r.Repository == "" || r.Registry == "" || r.Tag == "" && r.Digest == "" {
			t.Fatalf("incomplete ref from %q: %+v", ref, r)
		}
		// The canonical form parses back to the same parts.
		canon := r.Registry + "/" + r.Repository
		if r.Tag != "" {
			canon += ":" + r.Tag
		}
		if r.Digest != "" {
			canon += "@" + r.Digest
		}
		again, err := ParseImageRef(canon)
		again.Raw = r.Raw
		if err != nil || again != r {
			t.Fatalf("%q -> %+v; canonical %q -> %+v, %v", ref, r, canon, again, err)
		}
	})
}

// FuzzNearECR: a near miss is never an ECR image already, always suggests a
// valid private ECR reference in another registry, and keeps the tag or
// digest. Seeds are in testdata/fuzz/FuzzNearECR.
func FuzzNearECR(f *testing.F) {
	f.Fuzz(func(t *testing.T, ref string) {
		r, err := ParseImageRef(ref)
		if err != nil {
			return
		}
		nm, ok := NearECR(r, "111122223333", "eu-west-1")
		if !ok {
			return
		}
		if r.IsECR() {
			t.Fatalf("%q is an ECR image, yet a near miss of %q", ref, nm.Meant.Raw)
		}
		if !nm.Meant.IsECR() || strings.EqualFold(nm.Meant.Registry, r.Registry) {
			t.Fatalf("%q: meant %+v is not another, private ECR registry", ref, nm.Meant)
		}
		if nm.Meant.Tag != r.Tag && r.Digest == "" || nm.Meant.Digest != r.Digest {
			t.Fatalf("%q: meant %q lost the tag or digest", ref, nm.Meant.Raw)
		}
		if again, _ := NearECR(r, "111122223333", "eu-west-1"); again != nm {
			t.Fatalf("%q: not deterministic: %+v then %+v", ref, nm, again)
		}
	})
}
