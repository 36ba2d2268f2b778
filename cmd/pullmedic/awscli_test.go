package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pullmedic/pullmedic/pkg/report"
)

// needTool skips a test loudly when a program it runs is missing, naming the
// install line; under CI=true (where .ci/run installs it) that is a failure.
func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err == nil {
		return
	}
	msg := name + " is missing, so the AWS CLI snapshot test cannot run. Install it with: sudo apt-get install awscli jq"
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true: " + msg)
	}
	t.Skip("*** E2E TEST SKIPPED: " + msg)
}

// TestSnapshotFromAWSCLI builds a snapshot of a moto world with the real aws
// CLI and scripts/snapshot-from-aws-cli.sh, and checks that diagnosing it
// gives what diagnosing the snapshot pullmedic collect writes gives: the
// same cause and every rule's same verdict.
func TestSnapshotFromAWSCLI(t *testing.T) {
	needTool(t, "aws")
	needTool(t, "jq")
	useMoto(t)
	dir := t.TempDir()
	eventPath := filepath.Join(dir, "event.json")
	if err := os.WriteFile(eventPath, seedPublicSubnetService(t), 0o644); err != nil {
		t.Fatal(err)
	}

	scripted := filepath.Join(dir, "from-cli.json")
	script := exec.Command("bash", "../../scripts/snapshot-from-aws-cli.sh", "--event", eventPath, "--out", scripted)
	// useMoto blanks AWS_PROFILE and AWS_SESSION_TOKEN for the SDK; the CLI
	// would look for a profile named "" and send an empty token.
	for _, kv := range os.Environ() {
		if k, v, _ := strings.Cut(kv, "="); v != "" || (k != "AWS_PROFILE" && k != "AWS_SESSION_TOKEN") {
			script.Env = append(script.Env, kv)
		}
	}
	if out, err := script.CombinedOutput(); err != nil {
		t.Fatalf("snapshot-from-aws-cli.sh: %v\n%s", err, out)
	}
	collected := filepath.Join(dir, "collected.json")
	if c := runCLI(t, "", "collect", "--event", eventPath, "--out", collected); c.code != exitOK {
		t.Fatalf("collect: exit %d, stderr: %s", c.code, c.stderr)
	}

	diagnose := func(snap string) (int, report.Report) {
		t.Helper()
		res := runCLI(t, "", "diagnose", "--event", eventPath, "--snapshot", snap, "--format", "json")
		var rep report.Report
		if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
			t.Fatalf("diagnose --snapshot %s: exit %d, %v, stderr: %s", filepath.Base(snap), res.code, err, res.stderr)
		}
		return res.code, rep
	}
	wantCode, want := diagnose(collected)
	gotCode, got := diagnose(scripted)
	if want.Cause == nil || *want.Cause != "network.public-ip" {
		t.Fatalf("collect's snapshot: cause %v, want network.public-ip", want.Cause)
	}
	if gotCode != wantCode || got.Cause == nil || *got.Cause != *want.Cause {
		t.Errorf("the CLI-built snapshot: exit %d, cause %v; collect's: exit %d, cause %s", gotCode, got.Cause, wantCode, *want.Cause)
	}
	for _, w := range want.Findings {
		if g, _ := got.Finding(w.Rule); g.Status != w.Status || g.Message != w.Message {
			t.Errorf("%s: the CLI-built snapshot says %s (%s); collect's says %s (%s)", w.Rule, g.Status, g.Message, w.Status, w.Message)
		}
	}

	// The IAM filter keeps the file small: the task's roles and the account's own policies.
	var doc struct{ IAM json.RawMessage }
	data, err := os.ReadFile(scripted)
	if err != nil || json.Unmarshal(data, &doc) != nil {
		t.Fatalf("read %s: %v", scripted, err)
	}
	t.Logf("CLI-built snapshot: %d bytes, of which the IAM section %d", len(data), len(doc.IAM))
}

// TestRepositoryPolicyAsPrinted: the traps. A repository policy
// pasted as get-repository-policy prints it, or keyed by ARN, is judged like
// any other; one that cannot be judged never ends in exit 0.
func TestRepositoryPolicyAsPrinted(t *testing.T) {
	const (
		arn   = "arn:aws:ecr:eu-west-1:444455556666:repository/shared/web"
		grant = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/ecsTaskExecutionRole"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}`
		other = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"999988887777"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}`
	)
	printed := func(policy string) any {
		return map[string]any{"registryId": "444455556666", "repositoryName": "shared/web", "policyText": policy}
	}
	tests := []struct {
		name     string
		policies map[string]any
		code     int
		cause    string
	}{
		{"granting policy printed whole", map[string]any{"shared/web": printed(grant)}, exitOK, ""},
		{"granting policy keyed by ARN", map[string]any{arn: grant}, exitOK, ""},
		{"policy for another account printed whole", map[string]any{"shared/web": printed(other)}, exitFailing, "iam.repository-policy"},
		{"policy for another account keyed by URI", map[string]any{"444455556666.dkr.ecr.eu-west-1.amazonaws.com/shared/web": other}, exitFailing, "iam.repository-policy"},
		{"policy without statements cannot be judged", map[string]any{arn: `{"Version":"2012-10-17"}`}, exitInconclusive, ""},
		{"output without policyText is bad input", map[string]any{arn: map[string]any{"registryId": "444455556666"}}, exitBadInput, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := editSnapshot(t, scenario("healthy-cross-account", "snapshot.json"), func(snap map[string]any) {
				snap["ecr"].(map[string]any)["repositoryPolicies"] = tc.policies
			})
			res := runCLI(t, "", "diagnose", "--event", scenario("healthy-cross-account", "event.json"), "--snapshot", path, "--format", "json")
			if res.code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s\n%s", res.code, tc.code, res.stderr, res.stdout)
			}
			if tc.code == exitBadInput {
				if !strings.Contains(res.stderr, "ecr.repositoryPolicies") || !strings.Contains(res.stderr, "policyText") {
					t.Errorf("stderr %q does not name the path and the shape expected", res.stderr)
				}
				return
			}
			var rep report.Report
			if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
				t.Fatal(err)
			}
			got := ""
			if rep.Cause != nil {
				got = *rep.Cause
			}
			if got != tc.cause {
				t.Errorf("cause = %q, want %q", got, tc.cause)
			}
		})
	}
}
