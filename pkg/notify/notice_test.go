package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/internal/golden"
	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
	"github.com/pullmedic/pullmedic/pkg/report"
)

var (
	t0    = time.Date(2026, 3, 9, 10, 14, 2, 0, time.UTC)
	since = t0.Add(-47 * time.Minute)
)

func loadReport(t *testing.T, name string) *report.Report {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "report-"+name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var r report.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// factsFor gives the report's subnet a route table and its task definition
// an execution role, so Links has something to find in the Facts.
func factsFor(r *report.Report) *account.Facts {
	return &account.Facts{
		Task: &event.Task{TaskDefinitionArn: r.Task.TaskDefinitionArn, SubnetID: r.Task.SubnetID},
		Snapshot: account.Snapshot{
			EC2: account.EC2Section{RouteTables: []ec2types.RouteTable{{
				RouteTableId: aws.String("rtb-0cc33dd44ee55ff66"),
				Associations: []ec2types.RouteTableAssociation{{SubnetId: aws.String(r.Task.SubnetID)}},
			}}},
			ECS: account.ECSSection{TaskDefinitions: []ecstypes.TaskDefinition{{
				TaskDefinitionArn: aws.String(r.Task.TaskDefinitionArn),
				ExecutionRoleArn:  aws.String("arn:aws:iam::111122223333:role/service-role/ecsTaskExecutionRole"),
			}}},
		},
	}
}

// scenario builds the notice of one golden scenario.
type scenario struct {
	name   string
	notice func(t *testing.T) *Notice
}

func problem(t *testing.T, reportName, cluster, group string) *Notice {
	r := loadReport(t, reportName)
	return &Notice{Kind: Problem, Report: r, Account: "111122223333", Region: "eu-west-1", Cluster: cluster, Group: group, Time: t0,
		Links: Links("eu-west-1", cluster, group, r, factsFor(r))}
}

var scenarios = []scenario{
	{"problem-autofix", func(t *testing.T) *Notice { return problem(t, "public-ip", "shop", "service:web") }},
	{"problem-dry-run", func(t *testing.T) *Notice { return problem(t, "endpoint-sg", "payments", "service:ledger") }},
	{"problem-manual", func(t *testing.T) *Notice { return problem(t, "no-route", "shop", "service:web") }},
	{"problem-no-cause", func(t *testing.T) *Notice { return problem(t, "healthy", "shop", "service:web") }},
	{"problem-inconclusive", func(t *testing.T) *Notice { return problem(t, "inconclusive", "shop", "service:web") }},
	{"still-failing", func(t *testing.T) *Notice {
		n := problem(t, "public-ip", "shop", "service:web")
		n.Kind, n.Count, n.Since = StillFailing, 57, since
		return n
	}},
	{"still-failing-escalated", func(t *testing.T) *Notice {
		n := problem(t, "public-ip", "shop", "service:web")
		n.Kind, n.Count, n.Since = StillFailing, 4, since
		n.Escalation = &Escalation{FixedAt: since.Add(-3 * time.Hour), Changes: []string{"chg-3f2a9c1b7d4e5f60"}}
		return n
	}},
	// A hub's member without its role: the notice leads with why nothing could be read.
	{"problem-unreadable-account", func(t *testing.T) *Notice {
		n := problem(t, "inconclusive", "shop", "service:web")
		n.Account = "444455556666"
		n.Unreadable = "cannot read account 444455556666: assume arn:aws:iam::444455556666:role/pullmedic-reader: " +
			"operation error STS: AssumeRole, AccessDenied: User: arn:aws:sts::111122223333:assumed-role/pullmedic-diagnose/fn " +
			"is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::444455556666:role/pullmedic-reader"
		return n
	}},
	{"resolved-deployment", func(t *testing.T) *Notice {
		return &Notice{Kind: Resolved, Account: "111122223333", Region: "eu-west-1", Cluster: "shop", Group: "service:web", Time: t0,
			Count: 12, Since: since.Add(-26 * time.Hour), Cause: "network.route", Reason: "deployment ecs-svc/8830144125590311762 completed",
			Links: Links("eu-west-1", "shop", "service:web", nil, nil)}
	}},
	{"resolved-diagnosis-standalone", func(t *testing.T) *Notice {
		n := problem(t, "healthy", "batch", "family:nightly-report")
		n.Kind, n.Count, n.Since, n.Cause, n.Reason = Resolved, 1, since, "network.public-ip", "a new diagnosis finds nothing failing"
		return n
	}},
}

func TestSlackMessageGolden(t *testing.T) {
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			var got bytes.Buffer
			enc := json.NewEncoder(&got)
			enc.SetEscapeHTML(false) // keep Slack's <url|label> readable in the golden file
			enc.SetIndent("", "  ")
			if err := enc.Encode(SlackMessage(s.notice(t))); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", "slack-"+s.name+".golden.json"), got.Bytes())
			checkBlockKitLimits(t, got.Bytes())
		})
	}
}

// checkBlockKitLimits enforces the Block Kit limits Slack answers
// invalid_blocks for: 50 blocks, header 150 characters, every other text
// object 3000, context 10 elements.
func checkBlockKitLimits(t *testing.T, msg []byte) {
	t.Helper()
	var m struct {
		Blocks []struct {
			Type     string                  `json:"type"`
			Text     *struct{ Text string }  `json:"text"`
			Elements []struct{ Text string } `json:"elements"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(msg, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Blocks) > 50 {
		t.Errorf("%d blocks", len(m.Blocks))
	}
	limit := map[string]int{"header": 150, "section": 3000}
	for i, b := range m.Blocks {
		if b.Text != nil && utf8.RuneCountInString(b.Text.Text) > limit[b.Type] {
			t.Errorf("block %d (%s): text of %d characters", i, b.Type, utf8.RuneCountInString(b.Text.Text))
		}
		if b.Type == "context" && (len(b.Elements) == 0 || len(b.Elements) > 10) {
			t.Errorf("block %d: context with %d elements", i, len(b.Elements))
		}
		for j, e := range b.Elements {
			if n := utf8.RuneCountInString(e.Text); n > 3000 {
				t.Errorf("block %d, element %d: text of %d characters", i, j, n)
			}
		}
	}
}

func TestSNSGolden(t *testing.T) {
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			n := s.notice(t)
			in, err := PublishInput("arn:aws:sns:eu-west-1:111122223333:pullmedic", n)
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(in.MessageStructure) != "json" {
				t.Errorf("MessageStructure = %q", aws.ToString(in.MessageStructure))
			}
			var msg map[string]string
			if err := json.Unmarshal([]byte(aws.ToString(in.Message)), &msg); err != nil {
				t.Fatalf("Message is not the JSON of MessageStructure json: %v", err)
			}
			// Every protocol but email gets the JSON document.
			doc, err := Document(n)
			if err != nil || msg["default"] != string(doc) || !json.Valid(doc) {
				t.Errorf("default is not the notice's document: %v\n%s", err, msg["default"])
			}
			var head struct{ Schema string }
			_ = json.Unmarshal(doc, &head)
			if want := map[bool]string{true: ResolvedSchema, false: report.SchemaV1}[n.Kind == Resolved]; head.Schema != want {
				t.Errorf("document schema %q, want %q", head.Schema, want)
			}

			var b strings.Builder
			fmt.Fprintf(&b, "Subject: %s\n", aws.ToString(in.Subject))
			for _, k := range slices.Sorted(maps.Keys(in.MessageAttributes)) {
				a := in.MessageAttributes[k]
				fmt.Fprintf(&b, "Attribute %s (%s): %s\n", k, aws.ToString(a.DataType), aws.ToString(a.StringValue))
			}
			fmt.Fprintf(&b, "\n%s", msg["email"])
			golden.Check(t, filepath.Join("testdata", "sns-"+s.name+".golden.txt"), []byte(b.String()))
		})
	}
}

func TestSubjectFitsSNS(t *testing.T) {
	long := strings.Repeat("very-long-service-name-", 10)
	cases := []struct {
		name string
		n    Notice
		want string // the start of the subject
	}{
		{"short", Notice{Kind: Problem, Cluster: "prod", Group: "service:web", Report: &report.Report{Cause: aws.String("network.route")}},
			"[pullmedic] prod/web: no route to the registry"},
		{"long names are cut", Notice{Kind: StillFailing, Cluster: "prod", Group: "service:" + long},
			"[pullmedic] still failing: prod/very-long-service-name-"},
		{"multibyte runes are not split", Notice{Kind: Resolved, Cluster: strings.Repeat("日本", 60), Group: "family:x", Cause: "network.route"},
			"[pullmedic] resolved: 日本"},
		{"line breaks are removed", Notice{Kind: Resolved, Cluster: "a\nb\tc", Group: "service:web"},
			"[pullmedic] resolved: a b c/web"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := c.n.Subject()
			if n := utf8.RuneCountInString(s); n > SubjectMax || n == 0 {
				t.Errorf("subject of %d characters: %q", n, s)
			}
			if !utf8.ValidString(s) || strings.ContainsAny(s, "\n\r\t") {
				t.Errorf("subject is not one line of valid UTF-8: %q", s)
			}
			if !strings.HasPrefix(s, c.want) {
				t.Errorf("subject %q does not start with %q", s, c.want)
			}
		})
	}
}

func TestAttributesAreNeverEmpty(t *testing.T) {
	for _, s := range scenarios {
		n := s.notice(t)
		attrs := n.Attributes()
		for _, k := range []string{"kind", "cluster", "service", "cause", "severity", "autoFix"} {
			if attrs[k] == "" {
				t.Errorf("%s: attribute %s is empty", s.name, k)
			}
		}
	}
	standalone := (&Notice{Kind: Problem, Cluster: "batch", Group: "family:nightly"}).Attributes()
	if standalone["service"] != "family:nightly" || standalone["cause"] != "none" || standalone["severity"] != "info" {
		t.Errorf("standalone task attributes: %v", standalone)
	}
}
