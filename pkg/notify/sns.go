package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/pullmedic/pullmedic/pkg/report"
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

// PublishInput builds the SNS message of a notice.
func PublishInput(topicArn string, n *Notice) (*sns.PublishInput, error) {
	doc, err := Document(n)
	if err != nil {
		return nil, err
	}
	return Message(topicArn, n.Subject(), doc, EmailText(n), n.Attributes())
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
// standalone task; escalated is present only on an escalation.
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
	return attrs
}

// ResolvedSchema is the schema of the document a resolved notice publishes.
const ResolvedSchema = "pullmedic.resolved/v1"

// resolved is the document of a resolved notice.
type resolved struct {
	Schema      string         `json:"schema"`
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
		v = resolved{Schema: ResolvedSchema, Cluster: n.Cluster, Group: n.Group, Cause: n.Cause, Reason: n.Reason,
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
	if s := n.Status(); s != "" {
		b.WriteString(s + "\n")
	}
	if n.Kind != Resolved && n.Report != nil {
		b.WriteString("\n")
		// A strings.Builder does not fail.
		_ = n.Report.WriteText(&b, false)
	}
	if len(n.Links) > 0 {
		b.WriteString("\nAWS console\n")
		for _, l := range n.Links {
			fmt.Fprintf(&b, "  %s: %s\n", l.Label, l.URL)
		}
	}
	return b.String()
}
