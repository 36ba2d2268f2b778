package report

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/pullmedic/pullmedic/internal/golden"
	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

func renderMarkdown(t *testing.T, r *Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := r.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// markdownCases are the reports whose Markdown is golden: each way the
// flowchart can mark the path, and a preflight.
func markdownCases(t *testing.T) []struct {
	name string
	rep  *Report
} {
	throttled := map[account.Source]string{account.SrcDHCPOptions: "ThrottlingException: Rate exceeded"}
	preflight := Build(scenarioFacts(t, "tag-missing", nil))
	preflight.Mode = ModePreflight
	preflight.Task.TaskArn, preflight.Task.StoppedReason = "", ""
	return []struct {
		name string
		rep  *Report
	}{
		{"route-breaks-at-the-last-hop", Build(scenarioFacts(t, "no-route", nil))},
		{"task-hop-fails-with-a-plan", Build(scenarioFacts(t, "task-sg-no-egress", nil))},
		{"endpoint-sg-with-a-plan", Build(scenarioFacts(t, "endpoint-sg-missing-443", nil))},
		{"registry-refuses", Build(scenarioFacts(t, "tag-missing", nil))},
		{"likely-cause", Build(scenarioFacts(t, "tgw-default-route-timeout", nil))},
		{"healthy", Build(scenarioFacts(t, "healthy-nat", nil))},
		{"inconclusive", Build(scenarioFacts(t, "healthy-nat", throttled))},
		{"preflight", preflight},
	}
}

func TestWriteMarkdownGolden(t *testing.T) {
	for _, tc := range markdownCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			got := renderMarkdown(t, tc.rep)
			golden.Check(t, filepath.Join("testdata", "markdown", tc.name+".md"), []byte(got))
			if _, err := parseMermaid(mermaidBlock(t, got)); err != nil {
				t.Errorf("the Mermaid block does not parse: %v", err)
			}
		})
	}
}

// TestFlowchartMarksTheFailingHop: the hop the cause judges is the one node
// styled "fail", the edge out of it is crossed and names the cause, and what
// lies beyond is dotted.
func TestFlowchartMarksTheFailingHop(t *testing.T) {
	tests := []struct {
		cause      string // "" for none
		status     rules.Status
		likely     bool   // the cause is a warning: styled "likely", not "fail"
		failNode   string // node styled fail (or likely), "" for none
		crossed    string // "FROM TO" of the crossed edge
		dotted     int
		otherClass string // the registry's class when nothing fails
	}{
		{cause: "network.route", status: rules.Fail, failNode: "hop3", crossed: "hop3 registry"},
		{cause: "network.endpoint-sg", status: rules.Fail, failNode: "hop3", crossed: "hop3 registry"},
		{cause: "network.task-sg-egress", status: rules.Fail, failNode: "hop0", crossed: "hop0 hop1", dotted: 3},
		{cause: "network.public-ip", status: rules.Fail, failNode: "hop0", crossed: "hop0 hop1", dotted: 3},
		{cause: "network.nacl", status: rules.Fail, failNode: "hop1", crossed: "hop1 hop2", dotted: 2},
		{cause: "image.tag", status: rules.Fail, failNode: "registry", crossed: "hop3 registry"},
		{cause: "iam.ecr-pull", status: rules.Fail, failNode: "registry", crossed: "hop3 registry"},
		{cause: "dns.vpc-dns", status: rules.Fail, failNode: "registry", crossed: "hop3 registry"},
		{cause: "network.route", status: rules.Warn, likely: true, failNode: "hop3", crossed: "hop3 registry"},
		{cause: "dns.dhcp-options", status: rules.Warn, likely: true, failNode: "registry", crossed: "hop3 registry"},
		{status: rules.Pass, otherClass: "ok"},
		{status: rules.Error, otherClass: "unknown"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s %s", tc.cause, tc.status), func(t *testing.T) {
			r := sample()
			r.Cause = nil
			r.Findings[0].Status = rules.Pass
			if tc.cause != "" {
				r.Cause, r.Confidence = aws.String(tc.cause), rules.Proven
				if tc.likely {
					r.Confidence = rules.Likely
				}
				r.Findings = append(r.Findings, rules.Finding{Rule: tc.cause, Status: tc.status, Message: "broken"})
			}
			if tc.status == rules.Error {
				r.Inconclusive = true
			}
			chart, err := parseMermaid(r.Flowchart())
			if err != nil {
				t.Fatalf("%v\n%s", err, r.Flowchart())
			}
			failClass, label := "fail", tc.cause
			if tc.likely {
				failClass, label = "likely", "likely "+tc.cause
			}
			var failed, classed []string
			for id, n := range chart.nodes {
				switch n.class {
				case failClass:
					failed = append(failed, id)
				case "":
				default:
					classed = append(classed, id+":"+n.class)
				}
			}
			if tc.failNode != "" && (len(failed) != 1 || failed[0] != tc.failNode) {
				t.Errorf("failing nodes %v, want [%s]", failed, tc.failNode)
			}
			if tc.otherClass != "" && (len(failed) != 0 || len(classed) != 1 || classed[0] != "registry:"+tc.otherClass) {
				t.Errorf("fail %v, classes %v, want only registry:%s", failed, classed, tc.otherClass)
			}
			var crossed []string
			dotted := 0
			for _, e := range chart.edges {
				switch e.arrow {
				case "--x":
					crossed = append(crossed, e.from+" "+e.to)
					if e.label != label {
						t.Errorf("crossed edge label %q, want %q", e.label, label)
					}
				case "-.->":
					dotted++
				}
			}
			if tc.crossed != "" && (len(crossed) != 1 || crossed[0] != tc.crossed) {
				t.Errorf("crossed edges %v, want [%s]", crossed, tc.crossed)
			}
			if tc.crossed == "" && len(crossed) != 0 {
				t.Errorf("crossed edges %v, want none", crossed)
			}
			if dotted != tc.dotted {
				t.Errorf("%d dotted edges, want %d", dotted, tc.dotted)
			}
		})
	}
}

// TestFlowchartLabelsFromTheAccount: labels hold text read from an account
// (names, tags); whatever they contain, the chart parses and shows it as it was.
func TestFlowchartLabelsFromTheAccount(t *testing.T) {
	hostile := []string{
		`task "quoted" (eni-1)`,
		"subnet <script>alert(1)</script> #1 & co",
		"route table `rtb-1` | main",
		"0.0.0.0/0 →\nnat-1 (failed); end",
		"hop]) --> registry",
	}
	r := sample()
	r.Findings[0].Evidence = map[string]any{"chain": hostile}
	chart, err := parseMermaid(r.Flowchart())
	if err != nil {
		t.Fatalf("%v\n%s", err, r.Flowchart())
	}
	for i, want := range hostile {
		got := chart.nodes[fmt.Sprintf("hop%d", i)].label
		if want = strings.ReplaceAll(want, "\n", " "); got != want {
			t.Errorf("hop%d label %q, want %q", i, got, want)
		}
	}
}

func TestMarkdownEscapesAccountText(t *testing.T) {
	r := sample()
	r.Findings[2].Message = "resolver *10.0.0.2* | [x](http://evil) <b>"
	md := renderMarkdown(t, r)
	want := `| ⚠️ warn | ` + "`dns.dhcp-options`" + ` | medium | resolver \*10.0.0.2\* \| \[x\](http://evil) &lt;b&gt; |`
	if !strings.Contains(md, want+"\n") {
		t.Errorf("the table row should escape the message:\nwant %s\n%s", want, md)
	}
	if strings.Contains(md, "Stopped CannotPullContainerError: i/o timeout \n") {
		t.Errorf("line breaks should not survive in a list item:\n%s", md)
	}
}

func TestMarkdownWithoutPath(t *testing.T) {
	r := sample()
	r.Findings[0].Evidence = nil
	if md := renderMarkdown(t, r); strings.Contains(md, "mermaid") || r.Flowchart() != "" {
		t.Errorf("no rule traced a path, so there should be no flowchart:\n%s", md)
	}
}

// mermaidBlock is the one ```mermaid block of a Markdown document.
func mermaidBlock(t *testing.T, md string) string {
	t.Helper()
	_, rest, ok := strings.Cut(md, "```mermaid\n")
	if !ok {
		t.Fatalf("no mermaid block in:\n%s", md)
	}
	block, _, ok := strings.Cut(rest, "```")
	if !ok || strings.Contains(rest[len(block)+3:], "```mermaid") {
		t.Fatalf("want exactly one closed mermaid block in:\n%s", md)
	}
	return block
}

// The subset of Mermaid's flowchart syntax the report writes.
var (
	mermaidID = `[A-Za-z][A-Za-z0-9_]*`
	// A quoted label: no quote, and no markup character except an entity code (#name; or #123;).
	mermaidQuoted = `"((?:[^"#<>` + "`" + `\n]|#[a-z]+;|#[0-9]+;)*)"`
	nodeLine      = regexp.MustCompile(`^  (` + mermaidID + `)(?:\[` + mermaidQuoted + `\]|\(\[` + mermaidQuoted + `\]\))(?::::(` + mermaidID + `))?$`)
	edgeLine      = regexp.MustCompile(`^  (` + mermaidID + `) (-->|-\.->|--x)(?:\|` + mermaidQuoted + `\|)? (` + mermaidID + `)$`)
	classDefLine  = regexp.MustCompile(`^  classDef (` + mermaidID + `) ([a-z-]+:[^,\s]+(?:[ ,][a-z-]*:?[^,\s]+)*)$`)
	entity        = regexp.MustCompile(`#([a-z]+|[0-9]+);`)
	entities      = map[string]string{"quot": `"`, "amp": "&", "lt": "<", "gt": ">", "35": "#", "96": "`"}
)

type mermaidNode struct{ label, class string }

type mermaidEdge struct{ from, arrow, label, to string }

type mermaidChart struct {
	nodes map[string]mermaidNode
	edges []mermaidEdge
}

// parseMermaid checks a flowchart line by line: the header, then node, edge
// and classDef lines with valid IDs and properly quoted labels; every edge
// joins nodes declared before it, IDs are unique, and every class used is
// defined. Labels come back with their entity codes decoded.
func parseMermaid(src string) (*mermaidChart, error) {
	lines := strings.Split(strings.TrimSuffix(src, "\n"), "\n")
	if lines[0] != "flowchart LR" {
		return nil, fmt.Errorf("line 1: %q, want \"flowchart LR\"", lines[0])
	}
	c := &mermaidChart{nodes: map[string]mermaidNode{}}
	defined := map[string]bool{}
	for i, l := range lines[1:] {
		n := i + 2
		if m := nodeLine.FindStringSubmatch(l); m != nil {
			if _, dup := c.nodes[m[1]]; dup {
				return nil, fmt.Errorf("line %d: node %s declared twice", n, m[1])
			}
			c.nodes[m[1]] = mermaidNode{label: decodeEntities(m[2] + m[3]), class: m[4]}
			continue
		}
		if m := edgeLine.FindStringSubmatch(l); m != nil {
			for _, id := range []string{m[1], m[4]} {
				if _, ok := c.nodes[id]; !ok {
					return nil, fmt.Errorf("line %d: edge to undeclared node %s", n, id)
				}
			}
			c.edges = append(c.edges, mermaidEdge{from: m[1], arrow: m[2], label: decodeEntities(m[3]), to: m[4]})
			continue
		}
		if m := classDefLine.FindStringSubmatch(l); m != nil {
			defined[m[1]] = true
			continue
		}
		return nil, fmt.Errorf("line %d: not a node, edge or classDef line: %q", n, l)
	}
	for id, node := range c.nodes {
		if node.class != "" && !defined[node.class] {
			return nil, fmt.Errorf("node %s uses class %s, which is not defined", id, node.class)
		}
	}
	return c, nil
}

func decodeEntities(s string) string {
	return entity.ReplaceAllStringFunc(s, func(e string) string {
		if v, ok := entities[strings.Trim(e, "#;")]; ok {
			return v
		}
		return e
	})
}

// The parser must refuse what Mermaid would misread, or it proves nothing.
func TestParseMermaidRefuses(t *testing.T) {
	const def = "  classDef fail fill:#fff\n"
	tests := []struct{ name, src, want string }{
		{"wrong header", "graph TD\n", "line 1"},
		{"edge to an undeclared node", "flowchart LR\n  a[\"x\"]\n  a --> b\n", "undeclared node b"},
		{"edge before its node", "flowchart LR\n  a --> b\n  a[\"x\"]\n  b[\"y\"]\n", "undeclared node a"},
		{"unquoted label", "flowchart LR\n  a[x]\n", "not a node"},
		{"raw quote in a label", "flowchart LR\n  a[\"say \"hi\"\"]\n", "not a node"},
		{"raw markup in a label", "flowchart LR\n  a[\"<b>\"]\n", "not a node"},
		{"a bare # in a label", "flowchart LR\n  a[\"#1\"]\n", "not a node"},
		{"invalid ID", "flowchart LR\n  1a[\"x\"]\n", "not a node"},
		{"duplicate node", "flowchart LR\n  a[\"x\"]\n  a[\"y\"]\n", "declared twice"},
		{"undefined class", "flowchart LR\n  a[\"x\"]:::fail\n", "not defined"},
		{"unknown arrow", "flowchart LR\n  a[\"x\"]\n  b[\"y\"]\n  a ==> b\n" + def, "not a node, edge"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseMermaid(tc.src)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}
