package scenarios

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pullmedic/pullmedic/internal/golden"
	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
	"github.com/pullmedic/pullmedic/pkg/report"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

// wantCause is each scenario's root cause ("" for none). It is kept apart from
// the goldens, so regenerating a golden cannot hide a wrong cause.
var wantCause = map[string]string{
	"healthy-nat":                           "",
	"healthy-endpoints":                     "",
	"healthy-cross-account":                 "",
	"custom-dhcp-resolvers":                 "dns.dhcp-options", // likely: custom resolvers can only warn
	"tgw-default-route-timeout":             "network.route",    // likely: the path past the transit gateway is unseen
	"healthy-transient-registry-error":      "",
	"public-subnet-no-public-ip":            "network.public-ip",
	"standalone-task-public-subnet":         "network.public-ip",
	"no-route":                              "network.route",
	"nat-failed":                            "network.route",
	"blackhole-route":                       "network.route",
	"missing-ecr-dkr-endpoint":              "network.vpc-endpoints",
	"old-platform-dockerhub-via-endpoints":  "network.vpc-endpoints",
	"ecr-other-region-via-endpoints":        "network.vpc-endpoints",
	"endpoint-sg-missing-443":               "network.endpoint-sg",
	"task-sg-no-egress":                     "network.task-sg-egress",
	"nacl-blocks-ephemeral":                 "network.nacl",
	"s3-endpoint-policy-denies":             "network.endpoint-policy",
	"vpc-dns-disabled":                      "dns.vpc-dns",
	"dhcp-no-dns-servers":                   "dns.dhcp-options",
	"no-execution-role":                     "iam.execution-role",
	"role-missing-ecr-pull":                 "iam.ecr-pull",
	"explicit-deny-boundary":                "iam.ecr-pull",
	"cross-account-no-repo-policy":          "iam.repository-policy",
	"secret-access-denied":                  "iam.secrets",
	"repo-missing":                          "image.repository",
	"tag-missing":                           "image.tag",
	"wrong-platform":                        "image.platform",
	"dockerhub-rate-limit":                  "image.registry-rate-limit",
	"private-registry-no-creds":             "image.registry-auth",
	"repo-policy-denies-outside-vpce":       "iam.repository-policy",
	"pull-through-cache-first-pull":         "image.pull-through-cache",
	"image-index-missing-arch":              "image.platform",
	"pinned-digest-expired":                 "image.tag",
	"registry-host-typo":                    "image.repository",
	"image-missing-registry-prefix":         "image.repository",
	"ec2-bridge-host-sg-no-egress":          "network.task-sg-egress",
	"ec2-awsvpc-public-subnet-no-public-ip": "network.public-ip",
	"ec2-instance-role-no-ecr":              "iam.ecr-pull",
	"ec2-private-subnet-no-nat":             "network.route",
	"ec2-agent-disconnected":                "host.agent", // likely: agents reconnect, the state is read after the failure
	"ec2-disk-full":                         "host.storage",
	"fargate-ephemeral-storage-full":        "host.storage",
	"ec2-windows-build-mismatch":            "image.platform",
	"ec2-agent-too-old":                     "host.agent",
}

// likely are the scenarios whose cause is a warning that fits the stop
// reason, not a failing rule.
var likely = map[string]bool{"custom-dhcp-resolvers": true, "tgw-default-route-timeout": true, "ec2-agent-disconnected": true}

// textGolden are the scenarios whose text rendering is golden too.
var textGolden = map[string]bool{
	"public-subnet-no-public-ip": true,
	"healthy-endpoints":          true,
	"tgw-default-route-timeout":  true,
}

// diagnose runs one scenario offline, as "pullmedic diagnose --snapshot" does.
func diagnose(t *testing.T, dir string) *report.Report {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "event.json"))
	if err != nil {
		t.Fatal(err)
	}
	task, err := event.Parse(data)
	if err != nil {
		t.Fatalf("event: %v", err)
	}
	snap, err := account.ReadSnapshotFile(filepath.Join(dir, "snapshot.json"))
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	facts, err := account.SnapshotView{Snap: snap}.Collect(context.Background(), task)
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	return report.Build(facts)
}

// scenarioDirs lists the folders that hold an event.
func scenarioDirs(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(e.Name(), "event.json")); e.IsDir() && err == nil {
			dirs = append(dirs, e.Name())
		}
	}
	return dirs
}

func TestScenarios(t *testing.T) {
	dirs := scenarioDirs(t)
	if len(dirs) != len(wantCause) {
		t.Errorf("%d scenario folders but %d expected causes: keep wantCause in step with the folders", len(dirs), len(wantCause))
	}
	failing := map[string][]string{} // rule -> scenarios where it fails
	for _, name := range dirs {
		t.Run(name, func(t *testing.T) {
			want, ok := wantCause[name]
			if !ok {
				t.Fatalf("no expected cause for %s in wantCause", name)
			}
			rep := diagnose(t, name)
			got := ""
			if rep.Cause != nil {
				got = *rep.Cause
			}
			if got != want {
				t.Errorf("cause = %q, want %q\n%s", got, want, summary(rep))
			}
			wantConf := rules.Proven
			switch {
			case want == "":
				wantConf = ""
			case likely[name]:
				wantConf = rules.Likely
			}
			if rep.Confidence != wantConf {
				t.Errorf("confidence = %q, want %q", rep.Confidence, wantConf)
			}
			if (want == "" || likely[name]) && rep.Failing() {
				t.Errorf("a healthy scenario has failing rules:\n%s", summary(rep))
			}
			if len(rep.Findings) != len(rules.Catalog) {
				t.Errorf("%d findings for %d catalog rules", len(rep.Findings), len(rules.Catalog))
			}
			for _, f := range rep.Findings {
				// A snapshot holds all a diagnosis reads: "error" is a gap in the scenario or a rule bug.
				if f.Status == rules.Error {
					t.Errorf("%s could not be evaluated: %s", f.Rule, f.Message)
				}
				if f.Status == rules.Fail {
					failing[f.Rule] = append(failing[f.Rule], name)
				}
			}
			js, err := json.MarshalIndent(rep, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join(name, "report.golden.json"), append(js, '\n'))
			if textGolden[name] {
				var buf bytes.Buffer
				if err := rep.WriteText(&buf, false); err != nil {
					t.Fatal(err)
				}
				golden.Check(t, filepath.Join(name, "report.golden.txt"), buf.Bytes())
			}
		})
	}
	for _, r := range rules.Catalog {
		if len(failing[r.ID]) == 0 {
			t.Errorf("no scenario makes %s fail", r.ID)
		}
	}
}

// summary lists the non-passing findings, for failure messages.
func summary(rep *report.Report) string {
	var b strings.Builder
	for _, f := range rep.Findings {
		if f.Status != rules.Pass {
			b.WriteString("  " + string(f.Status) + " " + f.Rule + ": " + f.Message + "\n")
		}
	}
	return b.String()
}
