package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/pullmedic/pullmedic/pkg/report"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

// SNSPublisher is the part of the SNS client notify uses.
type SNSPublisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// SNS publishes notices to a topic: the JSON document for every protocol but
// email, which gets readable text.
type SNS struct {
	Client   SNSPublisher
	TopicArn string
}

func (s *SNS) Notify(ctx context.Context, n *Notice) error {
	in, err := PublishInput(s.TopicArn, n)
	if err != nil {
		return err
	}
	if _, err := s.Client.Publish(ctx, in); err != nil {
		return fmt.Errorf("publish to %s: %w", s.TopicArn, err)
	}
	return nil
}

// snsMessageMax is what a published message may weigh: SNS takes 256 KiB,
// message attributes included, and PublishInput keeps 16 KiB of margin.
const snsMessageMax = 240 * 1024

// Sizes the texts of a report are clipped to once it is too large for SNS.
// The email always gets them: a reader wants the first lines of a stop
// reason, not 300 KB of it.
const (
	ReasonMax   = 8 << 10 // a stop reason, in a report or a remediation result
	messageMax  = 2 << 10
	adviceMax   = 4 << 10
	evidenceMax = 1 << 10 // each string inside a finding's evidence
	listMax     = 50      // elements kept of each list inside evidence
	emailMax    = 64 << 10
	// In the last resort, the reasons of the unchecked rules: the rule IDs
	// and the start of each reason say what to look at.
	lastReasonMax = 256
)

// cuts shrink a copy of a report, each more than the ones before;
// PublishInput applies them in turn until the message fits SNS.
var cuts = []struct {
	what string
	cut  func(r *report.Report)
}{
	{"long texts clipped", clipTexts},
	{"evidence dropped except the cause's", func(r *report.Report) {
		forOthers(r, func(f *rules.Finding) { f.Evidence = nil })
	}},
	{"messages and advice dropped except the cause's", func(r *report.Report) {
		forOthers(r, func(f *rules.Finding) { f.Message, f.Advice = "", "" })
	}},
	// The last resort: the cause, the unchecked rules, the plan.
	{"findings dropped except the cause's", func(r *report.Report) {
		cause, _ := r.CauseFinding()
		r.Findings = []rules.Finding{}
		if cause.Rule != "" {
			r.Findings = append(r.Findings, cause)
		}
		for i := range r.Unchecked {
			r.Unchecked[i].Reason = Clip(r.Unchecked[i].Reason, lastReasonMax)
		}
	}},
}

// PublishInput builds the SNS message of a notice. A message too large for
// SNS would fail on every retry, so the report is cut, step by step, until
// it fits, and says what was cut in its "truncated" field.
func PublishInput(topicArn string, n *Notice) (*sns.PublishInput, error) {
	fitted := *n
	for step := 0; ; step++ {
		doc, err := Document(&fitted)
		if err != nil {
			return nil, err
		}
		in, err := Message(topicArn, n.Subject(), doc, EmailText(&fitted), n.Attributes())
		if err != nil {
			return nil, err
		}
		size := messageSize(in)
		if size <= snsMessageMax {
			return in, nil
		}
		if n.Report == nil || step == len(cuts) {
			return nil, fmt.Errorf("SNS message of %d bytes, over %d even cut to the cause", size, snsMessageMax)
		}
		fitted.Report = shrink(n.Report, step+1)
	}
}

// shrink is a copy of r with the first steps of cuts applied.
func shrink(r *report.Report, steps int) *report.Report {
	c := cloned(r)
	var did []string
	for _, x := range cuts[:steps] {
		x.cut(c)
		did = append(did, x.what)
	}
	c.Truncated = fmt.Sprintf("to fit SNS's 256 KB message limit: %s", strings.Join(did, "; "))
	return c
}

// cloned is a copy of r whose findings and unchecked rules a cut may edit.
func cloned(r *report.Report) *report.Report {
	c := *r
	c.Findings = slices.Clone(r.Findings)
	c.Unchecked = slices.Clone(r.Unchecked)
	return &c
}

// clipTexts clips the stop reason, the findings' texts and the strings and
// lists inside their evidence. r's slices must be its own, as cloned's are.
func clipTexts(r *report.Report) {
	r.Task.StoppedReason = Clip(r.Task.StoppedReason, ReasonMax)
	for i := range r.Unchecked {
		r.Unchecked[i].Reason = Clip(r.Unchecked[i].Reason, messageMax)
	}
	for i := range r.Findings {
		f := &r.Findings[i]
		f.Message, f.Advice = Clip(f.Message, messageMax), Clip(f.Advice, adviceMax)
		if f.Evidence != nil {
			f.Evidence = clipEvidence(f.Evidence)
		}
	}
}

// clipEvidence returns the evidence as generic JSON with its strings and
// lists clipped; the rules' evidence holds any type, JSON is what it ends as.
func clipEvidence(ev map[string]any) map[string]any {
	data, err := json.Marshal(ev)
	var generic map[string]any
	if err != nil || json.Unmarshal(data, &generic) != nil {
		return ev // Document reports what cannot be encoded
	}
	for k, v := range generic {
		generic[k] = clipValue(v)
	}
	return generic
}

func clipValue(v any) any {
	switch v := v.(type) {
	case string:
		return Clip(v, evidenceMax)
	case []any:
		if len(v) > listMax {
			v = append(v[:listMax], fmt.Sprintf("… [%d more elements cut]", len(v)-listMax))
		}
		for i := range v {
			v[i] = clipValue(v[i])
		}
		return v
	case map[string]any:
		for k, x := range v {
			v[k] = clipValue(x)
		}
		return v
	}
	return v
}

// forOthers edits every finding but the cause's.
func forOthers(r *report.Report, edit func(f *rules.Finding)) {
	for i := range r.Findings {
		if r.Cause == nil || r.Findings[i].Rule != *r.Cause {
			edit(&r.Findings[i])
		}
	}
}

// messageSize is what SNS counts against its limit: the message, the
// attributes' names, types and values, and (for margin) the subject.
func messageSize(in *sns.PublishInput) int {
	size := len(aws.ToString(in.Message)) + len(aws.ToString(in.Subject))
	for k, v := range in.MessageAttributes {
		size += len(k) + len(aws.ToString(v.DataType)) + len(aws.ToString(v.StringValue))
	}
	return size
}

// Message is an SNS message with MessageStructure json: the JSON document for
// every protocol but email, which gets text; the subject made one line and
// cut to what SNS takes; string attributes for subscription filters. The
// remediate function's results go out the same way.
func Message(topicArn, subject string, doc []byte, email string, attributes map[string]string) (*sns.PublishInput, error) {
	msg, err := json.Marshal(map[string]string{"default": string(doc), "email": email})
	if err != nil {
		return nil, fmt.Errorf("encode SNS message: %w", err)
	}
	attrs := map[string]snstypes.MessageAttributeValue{}
	for k, v := range attributes {
		attrs[k] = snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	return &sns.PublishInput{
		TopicArn:          aws.String(topicArn),
		Subject:           aws.String(truncate(oneLine(subject), SubjectMax)),
		Message:           aws.String(string(msg)),
		MessageStructure:  aws.String("json"),
		MessageAttributes: attrs,
	}, nil
}

// Attributes are the SNS message attributes subscribers filter on. None is
// empty, since SNS refuses empty values. service is "family:NAME" for a
// standalone task; escalated is present only on an escalation, and
// inconclusive only when reads failed and nothing fails (cause "none" then
// is not an all-clear).
func (n *Notice) Attributes() map[string]string {
	service := n.Service()
	if service == "" {
		service = n.Group
	}
	cause := n.CauseID()
	if cause == "" {
		cause = "none"
	}
	attrs := map[string]string{
		"kind":     string(n.Kind),
		"cluster":  n.Cluster,
		"service":  service,
		"cause":    cause,
		"severity": n.Severity(),
		"autoFix":  n.AutoFix(),
	}
	if n.escalated() {
		attrs["escalated"] = "true"
	}
	if n.inconclusive() {
		attrs["inconclusive"] = "true"
	}
	if n.Unreadable != "" && n.Kind != Resolved {
		attrs["unreadable"] = "true"
	}
	// A hub's subscribers filter by account and region.
	if n.Account != "" {
		attrs["account"] = n.Account
	}
	if n.Region != "" {
		attrs["region"] = n.Region
	}
	return attrs
}

// ResolvedSchema is the schema of the document a resolved notice publishes.
const ResolvedSchema = "pullmedic.resolved/v1"

// resolved is the document of a resolved notice.
type resolved struct {
	Schema      string         `json:"schema"`
	Account     string         `json:"account,omitempty"`
	Region      string         `json:"region,omitempty"`
	Cluster     string         `json:"cluster"`
	Group       string         `json:"group"`
	Cause       string         `json:"cause"`
	Reason      string         `json:"reason"`
	Time        time.Time      `json:"time"`
	FailedTasks int            `json:"failedTasks"`
	Since       time.Time      `json:"since"`
	Report      *report.Report `json:"report,omitempty"`
}

// Document is the JSON a notice publishes: the pullmedic.report/v1 report,
// or for a resolved problem a pullmedic.resolved/v1 document.
func Document(n *Notice) ([]byte, error) {
	var v any = n.Report
	if n.Kind == Resolved {
		v = resolved{Schema: ResolvedSchema, Account: n.Account, Region: n.Region, Cluster: n.Cluster, Group: n.Group, Cause: n.Cause, Reason: n.Reason,
			Time: n.Time.UTC(), FailedTasks: n.Count, Since: n.Since.UTC(), Report: n.Report}
	}
	doc, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode notice document: %w", err)
	}
	return doc, nil
}

// EmailText is the notice as an email body: the headline, the report as text,
// and the console links.
func EmailText(n *Notice) string {
	var b strings.Builder
	b.WriteString(n.Headline() + "\n")
	if w := n.Where(); w != "" {
		b.WriteString("Account and region: " + w + "\n")
	}
	if s := n.Status(); s != "" {
		b.WriteString(s + "\n")
	}
	if n.Kind != Resolved && n.Report != nil {
		b.WriteString("\n")
		r := cloned(n.Report)
		clipTexts(r)
		var text strings.Builder
		// A strings.Builder does not fail.
		_ = r.WriteText(&text, false)
		b.WriteString(Clip(text.String(), emailMax))
	}
	if len(n.Links) > 0 {
		b.WriteString("\nAWS console\n")
		for _, l := range n.Links {
			fmt.Fprintf(&b, "  %s: %s\n", l.Label, l.URL)
		}
	}
	return b.String()
}
