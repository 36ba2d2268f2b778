package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/pullmedic/pullmedic/pkg/event"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

// statusMark is how a status reads in a table GitHub renders.
var statusMark = map[rules.Status]string{
	rules.Fail:  "❌ fail",
	rules.Warn:  "⚠️ warn",
	rules.Error: "❓ error",
	rules.Pass:  "✅ pass",
	rules.Skip:  "➖ skip",
}

// WriteMarkdown renders the report for a pull request comment or a CI job
// summary ($GITHUB_STEP_SUMMARY): the verdict, what was judged, the cause and
// what to do, the evidence chain as a Mermaid flowchart with the hop where
// the pull breaks marked, then every check in a table.
func (r *Report) WriteMarkdown(w io.Writer) error {
	t := &textWriter{w: w}
	cause, hasCause := r.causeFinding()
	r.writeMarkdownHeader(t, cause, hasCause)
	switch {
	case hasCause:
		t.printf("**%s** %s: %s\n", r.CauseLabel(), code(cause.Rule), mdText(cause.Message))
	case r.Inconclusive:
		t.printf("**Inconclusive:** %s\n", mdText(r.InconclusiveSummary()))
	default:
		t.printf("**No failing check:** %s\n", mdText(r.noCauseSummary()))
	}
	if len(r.Unchecked) > 0 {
		t.printf("\n#### Could not check\n\n")
		for _, u := range r.Unchecked {
			t.printf("- %s: %s", code(u.Rule), mdText(u.Reason))
			if open := u.LeavesOpen(); open != "" {
				t.printf(" (unknown: %s)", mdText(open))
			}
			t.printf("\n")
		}
		t.printf("\n%s\n", mdText(UncheckedAdvice))
	}
	if hasCause {
		r.writeMarkdownWhatToDo(t, cause)
	}
	if chart := r.Flowchart(); chart != "" {
		t.printf("\n#### Path\n\n```mermaid\n%s```\n", chart)
	}
	t.printf("\n#### Checks (%d)\n\n| Status | Rule | Severity | Message |\n|---|---|---|---|\n", len(r.Findings))
	for _, f := range r.Findings {
		t.printf("| %s | %s | %s | %s |\n", statusMark[f.Status], code(f.Rule), f.Severity, mdText(f.Message))
	}
	return t.err
}

// writeMarkdownHeader is the headline and what was judged. A preflight names
// the service and says which of its subnets stands in for the task's.
func (r *Report) writeMarkdownHeader(t *textWriter, cause rules.Finding, hasCause bool) {
	task := r.Task
	subject := "Standalone task " + code(shortTask(task.TaskArn))
	switch {
	case r.Mode == ModePreflight && task.Service != nil:
		subject = "Preflight of service " + code(*task.Service)
	case task.Service != nil:
		subject = fmt.Sprintf("Task %s of service %s", code(shortTask(task.TaskArn)), code(*task.Service))
	}
	likely := ""
	if r.Confidence == rules.Likely {
		likely = "likely "
	}
	switch {
	case hasCause && r.Mode == ModePreflight:
		t.printf("### %s %s: a new task would %snot pull its image (%s)\n\n", causeIcon(r.Confidence), subject, likely, code(cause.Rule))
	case hasCause:
		t.printf("### %s %s: the image pull failed, %scause %s\n\n", causeIcon(r.Confidence), subject, likely, code(cause.Rule))
	case r.Inconclusive:
		t.printf("### ❓ %s: inconclusive\n\n", subject)
	default:
		t.printf("### ✅ %s: no failing check\n\n", subject)
	}
	if task.ClusterArn != "" {
		t.printf("- **Cluster** %s\n", code(lastPart(task.ClusterArn)))
	}
	if task.TaskDefinitionArn != "" {
		t.printf("- **Task definition** %s\n", code(lastPart(task.TaskDefinitionArn)))
	}
	if task.SubnetID != "" {
		t.printf("- **Subnet** %s", code(task.SubnetID))
		if r.Mode == ModePreflight {
			// A new task may land in any of the service's subnets; one is judged.
			t.printf(" (the service's first subnet)")
		}
		t.printf("\n")
	}
	if len(task.SecurityGroups) > 0 {
		t.printf("- **Security groups** %s\n", codeList(task.SecurityGroups))
	}
	if len(task.Images) > 0 {
		t.printf("- **Images** %s\n", codeList(task.Images))
	}
	if lt := strings.TrimSpace(task.LaunchType + " " + task.PlatformVersion); lt != "" {
		t.printf("- **Launch type** %s\n", mdText(lt))
	}
	if task.StoppedReason != "" {
		t.printf("- **Stopped** %s\n", mdText(task.StoppedReason))
	}
	if r.Truncated != "" {
		t.printf("- **Cut** %s\n", mdText(r.Truncated))
	}
	t.printf("\n")
}

func (r *Report) writeMarkdownWhatToDo(t *textWriter, cause rules.Finding) {
	t.printf("\n#### What to do\n\n")
	if cause.Advice != "" {
		t.printf("%s\n\n", mdText(cause.Advice))
	}
	if len(r.Plan) == 0 {
		t.printf("No automatic fix applies; the steps above are manual.\n")
		return
	}
	t.printf("Automatic fix plan:\n\n")
	for i, s := range r.Plan {
		t.printf("%d. %s on %s\n", i+1, code(s.Action), code(s.Target))
	}
	t.printf("\nAuto-fix: %s\n", mdText(autoFixVerdict(r.AutoFix)))
}

// causeIcon marks a proven cause as a failure, a likely one as a warning.
func causeIcon(c rules.Confidence) string {
	if c == rules.Likely {
		return "⚠️"
	}
	return "❌"
}

// Flowchart is the evidence chain as a Mermaid "flowchart LR", ending at the
// registry, or "" when no rule traced a path. The hop where the pull breaks
// is styled "fail" ("likely" for a cause that is a warning), its way onward
// is a crossed edge labelled with the cause, and what lies beyond it is
// dotted: the pull never gets there. Without a cause the registry is styled
// "ok", or "unknown" when a read failed.
func (r *Report) Flowchart() string {
	cause, hasCause := r.causeFinding()
	hops := r.evidenceChain(cause)
	if len(hops) == 0 {
		return ""
	}
	labels := append(slices.Clone(hops), "registry "+strings.Join(r.registries(), ", "))
	registry := len(labels) - 1
	failAt, class, edgeLabel := -1, "", cause.Rule
	switch {
	case hasCause && r.Confidence == rules.Likely:
		failAt, class, edgeLabel = failingHop(cause.Rule, registry), "likely", "likely "+cause.Rule
	case hasCause:
		failAt, class = failingHop(cause.Rule, registry), "fail"
	case r.Inconclusive:
		class = "unknown"
	default:
		class = "ok"
	}

	var b strings.Builder
	b.WriteString("flowchart LR\n")
	for i, l := range labels {
		shape := `["%s"]`
		if i == registry {
			shape = `(["%s"])`
		}
		fmt.Fprintf(&b, "  %s"+shape, nodeID(i, registry), mermaidLabel(l))
		if i == failAt || (failAt < 0 && i == registry) {
			b.WriteString(":::" + class)
		}
		b.WriteString("\n")
	}
	// The edge out of a failing hop, or into a failing registry, is where the pull stops.
	for i := range registry {
		arrow := "-->"
		switch {
		case i == failAt || (failAt == registry && i == registry-1):
			arrow = fmt.Sprintf(`--x|"%s"|`, mermaidLabel(edgeLabel))
		case failAt >= 0 && i > failAt:
			arrow = "-.->"
		}
		fmt.Fprintf(&b, "  %s %s %s\n", nodeID(i, registry), arrow, nodeID(i+1, registry))
	}
	fmt.Fprintf(&b, "  classDef %s %s\n", class, classStyle[class])
	return b.String()
}

// classStyle are the node styles, readable on GitHub's light and dark themes.
var classStyle = map[string]string{
	"fail":    "fill:#ffebe9,stroke:#cf222e,stroke-width:3px,color:#1f2328",
	"likely":  "fill:#fff8c5,stroke:#9a6700,stroke-width:3px,color:#1f2328",
	"ok":      "fill:#dafbe1,stroke:#1a7f37,color:#1f2328",
	"unknown": "fill:#eaeef2,stroke:#6e7781,stroke-dasharray:4 3,color:#1f2328",
}

// failingHop is the node where the cause stops the pull. The network rules
// judge a hop of the path: the task's own settings (its public IP, its
// security groups' egress), the subnet (its network ACL), or where the route
// leads (no route, a failed NAT, missing endpoints or endpoints that refuse
// 443 or the pull). Every other rule finds the path intact and the registry
// refusing the pull (image, IAM) or not found by name (DNS).
func failingHop(rule string, registry int) int {
	switch {
	case rule == "network.public-ip" || rule == "network.task-sg-egress":
		return 0
	case rule == "network.nacl":
		return 1
	case strings.HasPrefix(rule, "network."):
		return registry - 1
	}
	return registry
}

func nodeID(i, registry int) string {
	if i == registry {
		return "registry"
	}
	return fmt.Sprintf("hop%d", i)
}

// registries are the distinct registry hosts of the task's images.
func (r *Report) registries() []string {
	var hosts []string
	for _, img := range r.Task.Images {
		ref, err := event.ParseImageRef(img)
		if err == nil && !slices.Contains(hosts, ref.Registry) {
			hosts = append(hosts, ref.Registry)
		}
	}
	return hosts
}

// mermaidLabel makes text safe inside a quoted Mermaid label: quotes, and the
// characters Mermaid or the HTML it renders would read as markup, become
// Mermaid entity codes; a line break would end the statement.
var mermaidLabel = strings.NewReplacer(
	`"`, "#quot;", "#", "#35;", "&", "#amp;", "<", "#lt;", ">", "#gt;", "`", "#96;",
	"\r\n", " ", "\n", " ", "\r", " ",
).Replace

// mdText keeps text literal in Markdown: characters that would start
// emphasis, a link, HTML or code, or end a table cell, are escaped, and line
// breaks become spaces so a cell or list item stays on its line.
var mdText = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"&", "&amp;", "<", "&lt;", ">", "&gt;", "|", `\|`, "\r\n", " ", "\n", " ", "\r", " ",
).Replace

// code is an inline code span; an ID never holds a backtick, but a value
// from an account could, and would end the span.
func code(s string) string { return "`" + strings.ReplaceAll(s, "`", "'") + "`" }

func codeList(items []string) string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = code(s)
	}
	return strings.Join(out, ", ")
}

// lastPart is the name at the end of an ARN (cluster/NAME, task-definition/FAMILY:REV).
func lastPart(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }
