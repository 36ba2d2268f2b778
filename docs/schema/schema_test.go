// Package schema holds no code: its test checks every report and snapshot
// the project ships against the JSON Schemas beside it, so the documented
// formats cannot drift from what pullmedic writes and reads.
package schema

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/pullmedic/pullmedic/pkg/rules"
)

// compile loads one of the schemas in this folder.
func compile(t *testing.T, file string) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(mustOpen(t, file))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(file, doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	s, err := c.Compile(file)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return s
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// validateAll checks every file the patterns match, and that they match some.
func validateAll(t *testing.T, schema *jsonschema.Schema, patterns ...string) {
	t.Helper()
	var files []string
	for _, p := range patterns {
		m, err := filepath.Glob(p)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatalf("no file matches %v: the test would check nothing", patterns)
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			v, err := jsonschema.UnmarshalJSON(mustOpen(t, file))
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(v); err != nil {
				t.Errorf("%v", err)
			}
		})
	}
}

// Every golden report of the scenarios and the preflight examples is a
// valid report.
func TestGoldenReports(t *testing.T) {
	validateAll(t, compile(t, "report.v1.json"), "../../examples/*/*/report.golden.json")
}

// Every snapshot the project ships is a valid snapshot.
func TestSnapshots(t *testing.T) {
	validateAll(t, compile(t, "snapshot.v1.json"),
		"../../examples/*/*/snapshot.json",
		"../../pkg/account/testdata/*.json")
}

// The schema rejects what the reader or the report would never accept.
func TestSchemasReject(t *testing.T) {
	report, snapshot := compile(t, "report.v1.json"), compile(t, "snapshot.v1.json")
	good := map[string]any{}
	data, err := os.ReadFile("../../examples/scenarios/nat-failed/report.golden.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &good); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		schema *jsonschema.Schema
		doc    string
	}{
		{"report of another schema", report, `{"schema": "pullmedic.report/v2"}`},
		{"snapshot of another schema", snapshot, `{"schema": "pullmedic.snapshot/v2"}`},
		{"snapshot without schema", snapshot, `{"account": "111122223333"}`},
		{"snapshot list that is not a list", snapshot, `{"schema": "pullmedic.snapshot/v1", "ec2": {"subnets": {}}}`},
		{"snapshot VPC attribute that is not a boolean", snapshot, `{"schema": "pullmedic.snapshot/v1", "ec2": {"vpcAttributes": {"vpc-0abc": {"EnableDnsSupport": "yes"}}}}`},
	}
	for _, edit := range []struct {
		name string
		mut  func(r map[string]any)
	}{
		{"report with an unknown status", func(r map[string]any) { r["findings"].([]any)[0].(map[string]any)["status"] = "maybe" }},
		{"report with an unknown action", func(r map[string]any) { r["autoFix"].(map[string]any)["actions"] = []any{"delete-vpc"} }},
		{"report without the task's account", func(r map[string]any) { delete(r["task"].(map[string]any), "account") }},
		{"report with a failing finding without advice", func(r map[string]any) {
			for _, f := range r["findings"].([]any) {
				if f.(map[string]any)["status"] == "fail" {
					delete(f.(map[string]any), "advice")
				}
			}
		}},
		{"report with a field of its own", func(r map[string]any) { r["verdict"] = "broken" }},
	} {
		var r map[string]any
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatal(err)
		}
		edit.mut(r)
		doc, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		tests = append(tests, struct {
			name   string
			schema *jsonschema.Schema
			doc    string
		}{edit.name, report, string(doc)})
	}
	if err := report.Validate(good); err != nil {
		t.Fatalf("the unedited report must pass: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v any
			if err := json.Unmarshal([]byte(tc.doc), &v); err != nil {
				t.Fatal(err)
			}
			if tc.schema.Validate(v) == nil {
				t.Errorf("accepted %s", tc.doc)
			}
		})
	}
}

// The schema's fix actions are the catalog's vocabulary.
func TestReportSchemaActions(t *testing.T) {
	var doc struct {
		Defs struct {
			Action struct {
				Enum []string `json:"enum"`
			} `json:"action"`
		} `json:"$defs"`
	}
	data, err := os.ReadFile("report.v1.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(doc.Defs.Action.Enum, rules.Actions()) {
		t.Errorf("report.v1.json actions %v, rules.Actions() %v", doc.Defs.Action.Enum, rules.Actions())
	}
}
