package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pullmedic/pullmedic/pkg/rules"
)

// The committed documents are what the catalog generates now.
func TestDocumentsAreFresh(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", readmePath))
	if err != nil {
		t.Fatal(err)
	}
	want, err := splice(string(readme), readmeTable(rules.Catalog))
	if err != nil {
		t.Fatalf("%s: %v", readmePath, err)
	}
	if string(readme) != want {
		t.Errorf("%s: the rule table is stale: run go generate ./internal/catalogdoc", readmePath)
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", docPath))
	if err != nil {
		t.Fatalf("%v: run go generate ./internal/catalogdoc", err)
	}
	if string(doc) != rulesDoc(rules.Catalog, rules.Actions()) {
		t.Errorf("%s is stale: run go generate ./internal/catalogdoc", docPath)
	}
}

// Every rule gets its own row in both tables, and each action names the rule that carries it.
func TestTablesNameEveryRule(t *testing.T) {
	table, doc := readmeTable(rules.Catalog), rulesDoc(rules.Catalog, rules.Actions())
	for _, r := range rules.Catalog {
		row := "| `" + r.ID + "` |"
		if strings.Count(table, row) != 1 || strings.Count(doc, row) != 1 {
			t.Errorf("rule %s: want one row in each table", r.ID)
		}
		if r.Action != "" && !strings.Contains(doc, "- `"+r.Action+"`, fixing ") {
			t.Errorf("action %s of %s is not listed", r.Action, r.ID)
		}
	}
}

func TestCell(t *testing.T) {
	if got, want := cell("a | b\nc"), `a \| b c`; got != want {
		t.Errorf("cell = %q, want %q", got, want)
	}
}

func TestSplice(t *testing.T) {
	tests := []struct {
		name, readme, want string
		ok                 bool
	}{
		{"replaces between the markers", "a\n" + beginMarker + "\nold\n" + endMarker + "\nz\n", "a\n" + beginMarker + "\nT\n" + endMarker + "\nz\n", true},
		{"empty between the markers", beginMarker + endMarker, beginMarker + "\nT\n" + endMarker, true},
		{"no markers", "a\n", "", false},
		{"end before begin", endMarker + beginMarker, "", false},
		{"two begins", beginMarker + beginMarker + endMarker, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := splice(tc.readme, "T\n")
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("splice = %q, %v; want %q, ok=%v", got, err, tc.want, tc.ok)
			}
		})
	}
}
