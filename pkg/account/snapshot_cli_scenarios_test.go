package account_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

// TestScenariosAsCLIPrints rewrites every bundled scenario's snapshot the way
// a person pastes AWS CLI output (whole command outputs, describe-vpc-attribute
// answers, get-repository-policy output, repositories keyed by URI and ARN)
// and checks that each rule says exactly what it says on the original.
func TestScenariosAsCLIPrints(t *testing.T) {
	dirs, err := filepath.Glob("../../examples/scenarios/*/snapshot.json")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, path := range dirs {
		dir := filepath.Dir(path)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			printed, err := asCLIPrints(data)
			if err != nil {
				t.Fatal(err)
			}
			want := scenarioVerdicts(t, dir, data)
			got := scenarioVerdicts(t, dir, printed)
			for rule, w := range want {
				if got[rule] != w {
					t.Errorf("%s: %s\n  as the CLI prints it: %s", rule, w, got[rule])
				}
			}
		})
	}
}

func scenarioVerdicts(t *testing.T, dir string, snapshot []byte) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "event.json"))
	if err != nil {
		t.Fatal(err)
	}
	task, err := event.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := account.LoadSnapshot("snapshot.json", snapshot)
	if err != nil {
		t.Fatal(err)
	}
	f, err := account.SnapshotView{Snap: snap}.Collect(context.Background(), task)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, fd := range rules.Evaluate(f) {
		out[fd.Rule] = fmt.Sprintf("%s: %s", fd.Status, fd.Message)
	}
	return out
}

// cliLists are the snapshot lists and the key their command's output holds them under.
var cliLists = map[string]map[string]string{
	"ecs": {"clusters": "clusters", "services": "services", "tasks": "tasks"},
	"ec2": {"vpcs": "Vpcs", "subnets": "Subnets", "routeTables": "RouteTables", "internetGateways": "InternetGateways",
		"natGateways": "NatGateways", "vpcEndpoints": "VpcEndpoints", "securityGroups": "SecurityGroups", "networkAcls": "NetworkAcls",
		"dhcpOptions": "DhcpOptions", "networkInterfaces": "NetworkInterfaces", "prefixLists": "PrefixLists"},
	"ecr":     {"repositories": "repositories", "pullThroughCacheRules": "pullThroughCacheRules"},
	"secrets": {"ssmParameters": "Parameters", "secretsManager": "SecretList"},
}

// asCLIPrints rewrites a snapshot into the shapes the AWS CLI prints.
func asCLIPrints(data []byte) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	section := func(name string) map[string]any {
		s, _ := doc[name].(map[string]any)
		return s
	}
	for sec, lists := range cliLists {
		for list, key := range lists {
			if v, ok := section(sec)[list]; ok {
				section(sec)[list] = map[string]any{key: v, "failures": []any{}}
			}
		}
	}
	if ecs := section("ecs"); ecs != nil {
		tds, _ := ecs["taskDefinitions"].([]any)
		for i, td := range tds {
			tds[i] = map[string]any{"taskDefinition": td, "tags": []any{}}
		}
	}
	if ec2 := section("ec2"); ec2 != nil {
		attrs, _ := ec2["vpcAttributes"].(map[string]any)
		var outputs []any // one describe-vpc-attribute call per attribute
		for vpc, a := range attrs {
			for name, v := range a.(map[string]any) {
				outputs = append(outputs, map[string]any{"VpcId": vpc, name: map[string]any{"Value": v}})
			}
		}
		if attrs != nil {
			ec2["vpcAttributes"] = outputs
		}
	}
	ecr := section("ecr")
	home := func(name string) (acct, region string) {
		acct, region = doc["account"].(string), doc["region"].(string)
		repos, _ := ecr["repositories"].(map[string]any)["repositories"].([]any)
		for _, r := range repos {
			r := r.(map[string]any)
			if r["repositoryName"] == name {
				f := strings.Split(r["repositoryArn"].(string), ":")
				return f[4], f[3]
			}
		}
		return acct, region
	}
	rekey := func(list string, key func(acct, region, name string) string, wrap func(acct, name string, v any) any) {
		m, _ := ecr[list].(map[string]any)
		out := map[string]any{}
		for name, v := range m {
			acct, region := home(name)
			out[key(acct, region, name)] = wrap(acct, name, v)
		}
		if m != nil {
			ecr[list] = out
		}
	}
	uri := func(acct, region, name string) string { return acct + ".dkr.ecr." + region + ".amazonaws.com/" + name }
	arn := func(acct, region, name string) string {
		return "arn:aws:ecr:" + region + ":" + acct + ":repository/" + name
	}
	rekey("images", uri, func(_, _ string, v any) any { return map[string]any{"imageDetails": v} })
	rekey("imageManifests", arn, func(_, _ string, v any) any { return map[string]any{"images": v, "failures": []any{}} })
	rekey("repositoryPolicies", arn, func(acct, name string, v any) any {
		text, isText := v.(string)
		if !isText {
			b, _ := json.MarshalIndent(v, "", "  ")
			text = string(b)
		}
		return map[string]any{"registryId": acct, "repositoryName": name, "policyText": text}
	})
	return json.Marshal(doc)
}
