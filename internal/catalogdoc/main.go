// Command catalogdoc writes the rule catalog's tables from pkg/rules.Catalog:
// docs/rules.md whole, and README.md's between the markers
// <!-- rules:begin --> and <!-- rules:end -->. A rule's ID, title and summary
// live in its file only; the test of this command fails when either document
// is stale. Run it after adding or changing a rule:
//
//	go generate ./internal/catalogdoc
package main

//go:generate go run . -root ../..

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/pullmedic/pullmedic/pkg/rules"
)

// The README's generated part lies between these markers.
const (
	beginMarker = "<!-- rules:begin -->"
	endMarker   = "<!-- rules:end -->"
)

// The documents it writes, relative to the module root.
const (
	readmePath = "README.md"
	docPath    = "docs/rules.md"
)

func main() {
	root := flag.String("root", ".", "the module root")
	flag.Parse()
	readme, err := os.ReadFile(filepath.Join(*root, readmePath))
	if err != nil {
		log.Fatal(err)
	}
	spliced, err := splice(string(readme), readmeTable(rules.Catalog))
	if err != nil {
		log.Fatalf("%s: %v", readmePath, err)
	}
	for path, text := range map[string]string{readmePath: spliced, docPath: rulesDoc(rules.Catalog, rules.Actions())} {
		if err := os.WriteFile(filepath.Join(*root, path), []byte(text), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}

// readmeTable is the README's table: what each rule requires.
func readmeTable(catalog []rules.Rule) string {
	var b strings.Builder
	b.WriteString("| Rule | What must hold |\n|---|---|\n")
	for _, r := range catalog {
		fmt.Fprintf(&b, "| `%s` | %s. |\n", r.ID, cell(strings.TrimSuffix(r.Summary, ".")))
	}
	b.WriteString("\nGenerated from `pkg/rules.Catalog` (`go generate ./internal/catalogdoc`); the full catalog, with titles, severities and fixes, is [docs/rules.md](docs/rules.md).\n")
	return b.String()
}

// rulesDoc is docs/rules.md.
func rulesDoc(catalog []rules.Rule, actions []string) string {
	var b strings.Builder
	b.WriteString(`# Rule catalog

<!-- Generated from pkg/rules.Catalog by go generate ./internal/catalogdoc: do not edit. -->

Every diagnosis evaluates each rule below, in this order, and the report
([report.md](report.md)) lists one finding per rule. The IDs are a public
contract: they appear in reports, Slack and SNS messages, metric dimensions
and alarm filters. They are never renamed, and never reused for another
meaning.

A finding's status is ` + "`pass`, `fail`, `warn` (likely a problem, not provable), `skip` (does not apply to this task) or `error` (a read failed; the message names it). An `error` is never turned into a `pass`." + `

| Rule | Headline of a failure | Severity | What must hold | Automatic fix |
|---|---|---|---|---|
`)
	for _, r := range catalog {
		fix := "manual: see the finding's advice"
		if r.Action != "" {
			fix = "`" + r.Action + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s. | %s |\n", r.ID, cell(r.Title), r.Severity, cell(strings.TrimSuffix(r.Summary, ".")), fix)
	}
	b.WriteString(causeSection)
	b.WriteString(`
## Fix actions

The remediate function's whole vocabulary, in the order a plan applies them.
It runs only what the cluster's ` + "`" + rules.TagAutoFix + "`" + ` tag allows
(` + "`enabled`, `dry-run`, or a comma-separated list of these names" + `);
everything else is advice for a person.

`)
	for _, a := range actions {
		var by []string
		for _, r := range catalog {
			if r.Action == a {
				by = append(by, "`"+r.ID+"`")
			}
		}
		fmt.Fprintf(&b, "- `%s`, fixing %s\n", a, strings.Join(by, ", "))
	}
	return b.String()
}

// causeSection says how the report picks its cause from the findings.
const causeSection = "\n## Cause\n\n" +
	"The report's cause is the first failing rule in the order the stop reason's\n" +
	"class suggests (a network timeout looks at `network.*` and `dns.*` first, a\n" +
	"missing manifest at the image rules), then any failing rule:\n" +
	"`\"confidence\": \"proven\"`. When no rule fails, a warning that fits the class\n" +
	"is the likely cause, `\"confidence\": \"likely\"`; a healthy world with a\n" +
	"transient error has neither, and no cause. A rule in `error` is never read as\n" +
	"\"able to pull\": the report lists it under `unchecked`. The orders are in\n" +
	"`pkg/rules/cause.go`; [stop-reasons.md](stop-reasons.md) says how a stop\n" +
	"reason gets its class.\n"

// splice replaces what lies between the README's markers with table.
func splice(readme, table string) (string, error) {
	begin := strings.Index(readme, beginMarker)
	end := strings.Index(readme, endMarker)
	if begin < 0 || end < begin || strings.Count(readme, beginMarker) != 1 || strings.Count(readme, endMarker) != 1 {
		return "", errors.New("want exactly one " + beginMarker + " followed by one " + endMarker)
	}
	return readme[:begin+len(beginMarker)] + "\n" + table + readme[end:], nil
}
