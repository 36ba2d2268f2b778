package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/slack-go/slack"

	"github.com/pullmedic/pullmedic/pkg/report"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

// Block Kit limits.
const (
	headerMax  = 150
	sectionMax = 3000
)

var icons = map[Kind]string{Problem: ":red_circle:", StillFailing: ":large_orange_circle:", Resolved: ":white_check_mark:"}

// SlackMessage builds the Block Kit message of a notice: the cause in the
// header, a context line, the diagnosis (cause, stop reason, evidence chain,
// fix) and console links.
func SlackMessage(n *Notice) *slack.WebhookMessage {
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, truncate(icons[n.Kind]+" "+n.Headline(), headerMax), true, false)),
	}
	if s := n.Status(); s != "" {
		blocks = append(blocks, section(esc(s)))
	}
	blocks = append(blocks, slack.NewContextBlock("", contextLine(n)...))
	if n.Kind != Resolved && n.Report != nil {
		blocks = append(blocks, diagnosis(n.Report, n.escalated())...)
	}
	if len(n.Links) > 0 {
		var links []string
		for _, l := range n.Links {
			links = append(links, "<"+l.URL+"|"+esc(l.Label)+">")
		}
		blocks = append(blocks, section("*AWS console*\n"+strings.Join(links, " · ")))
	}
	return &slack.WebhookMessage{Text: n.Subject(), Blocks: &slack.Blocks{BlockSet: blocks}}
}

func section(mrkdwn string) *slack.SectionBlock {
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, truncate(mrkdwn, sectionMax), false, false), nil, nil)
}

// esc escapes the three characters Slack's mrkdwn reserves.
func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func code(s string) string { return "`" + esc(s) + "`" }

// codeBlock keeps room for the closing fence when the text is long.
func codeBlock(s string) string { return "```" + esc(truncate(s, sectionMax-200)) + "```" }

func contextLine(n *Notice) []slack.MixedElement {
	field := func(name, value string) slack.MixedElement {
		return slack.NewTextBlockObject(slack.MarkdownType, "*"+name+"* "+value, false, false)
	}
	out := []slack.MixedElement{field("Cluster", esc(n.Cluster))}
	if s := n.Service(); s != "" {
		out = append(out, field("Service", esc(s)))
	} else {
		out = append(out, field("Task family", esc(n.Name())))
	}
	if r := n.Report; r != nil && n.Kind != Resolved {
		out = append(out, field("Task", esc(r.Task.TaskArn[strings.LastIndex(r.Task.TaskArn, "/")+1:])))
		var images []string
		for _, img := range r.Task.Images {
			images = append(images, code(img))
		}
		if len(images) > 0 {
			out = append(out, field("Image", strings.Join(images, ", ")))
		}
	}
	return append(out, field("Time", stamp(n.Time)))
}

// diagnosis is the cause, the stop reason, the evidence chain and the fix.
func diagnosis(r *report.Report, escalated bool) []slack.Block {
	cause, hasCause := r.CauseFinding()
	var blocks []slack.Block
	if hasCause {
		blocks = append(blocks, section(fmt.Sprintf("*Cause* %s (%s)\n%s", code(cause.Rule), cause.Severity, esc(cause.Message))))
	} else {
		blocks = append(blocks, section("*No check fails.* The account looks able to pull the image now; the stop reason below is all there is."))
	}
	if r.Task.StoppedReason != "" {
		blocks = append(blocks, section("*Stop reason*\n"+codeBlock(r.Task.StoppedReason)))
	}
	if chain := r.Chain(); len(chain) > 0 {
		blocks = append(blocks, section("*Evidence*\n"+esc(strings.Join(chain, "\n→ "))))
	}
	if hasCause {
		blocks = append(blocks, section("*Fix*\n"+fixText(r, cause, escalated)))
	}
	return blocks
}

// fixText says what happens about the cause: the auto-fix the cluster's tag
// allows, the dry run, or the manual step (always, once escalated).
func fixText(r *report.Report, cause rules.Finding, escalated bool) string {
	var b strings.Builder
	steps := func(keep func(rules.Step) bool) {
		for _, s := range r.Plan {
			if keep(s) {
				fmt.Fprintf(&b, "• %s on %s\n", code(s.Action), code(s.Target))
			}
		}
	}
	allowed := func(s rules.Step) bool { return r.AutoFix.Allows(s.Action) }
	manual := true
	switch {
	case escalated:
		b.WriteString("Not fixed automatically: this cause came back after a verified fix.\n")
	case r.AutoFix.Mode == rules.ModeDryRun && len(r.Plan) > 0:
		fmt.Fprintf(&b, "Dry run (%s): nothing is changed. Auto-fix would apply:\n", code(rules.TagAutoFix+"=dry-run"))
		steps(func(rules.Step) bool { return true })
	case len(r.AutoFix.Actions) > 0:
		fmt.Fprintf(&b, "Auto-fix (%s): the remediate function applies and then verifies:\n", code(rules.TagAutoFix))
		steps(allowed)
		manual = false
		for _, s := range r.Plan {
			manual = manual || !allowed(s)
		}
	case len(r.Plan) > 0:
		fmt.Fprintf(&b, "pullmedic can fix this itself when the cluster is tagged %s.\n", code(rules.TagAutoFix+"=enabled"))
	}
	if manual && cause.Advice != "" {
		b.WriteString(codeBlock(cause.Advice))
	}
	return strings.TrimSpace(b.String())
}

// Slack posts notices to an incoming webhook. It honours Retry-After on 429
// and backs off on 5xx and connection errors, within the context's deadline;
// a notice it cannot deliver is an error, never dropped in silence.
type Slack struct {
	// URL returns the webhook URL; see WebhookSecret.
	URL func(ctx context.Context) (string, error)
	// HTTP is the client; nil means http.DefaultClient.
	HTTP *http.Client
	// Attempts bounds the posts of one notice; 0 means 5.
	Attempts int
	// Backoff is the first wait after a 5xx or connection error, doubled on
	// each retry; 0 means 500ms.
	Backoff time.Duration
}

func (s *Slack) Notify(ctx context.Context, n *Notice) error {
	hook, err := s.URL(ctx)
	if err != nil {
		return err
	}
	client := s.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	attempts := s.Attempts
	if attempts <= 0 {
		attempts = 5
	}
	backoff := s.Backoff
	if backoff <= 0 {
		backoff = 500 * time.Millisecond
	}
	msg := SlackMessage(n)
	for attempt := 1; ; attempt++ {
		err := slack.PostWebhookCustomHTTPContext(ctx, hook, client, msg)
		if err == nil {
			return nil
		}
		wait, retry := retryAfter(err, backoff<<(attempt-1))
		if !retry || attempt == attempts {
			return fmt.Errorf("slack webhook, attempt %d: %w", attempt, err)
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return fmt.Errorf("slack webhook, attempt %d: %w (no time left to wait %s)", attempt, err, wait)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return fmt.Errorf("slack webhook, attempt %d: %w", attempt, errors.Join(err, ctx.Err()))
		}
	}
}

// retryAfter says whether a failed post may succeed later, and when to retry.
func retryAfter(err error, backoff time.Duration) (time.Duration, bool) {
	var limited *slack.RateLimitedError
	var status slack.StatusCodeError
	switch {
	case errors.As(err, &limited):
		return max(limited.RetryAfter, time.Second), true
	case errors.As(err, &status):
		return backoff, status.Retryable()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return 0, false
	default: // the connection failed
		return backoff, true
	}
}

// SecretsAPI is the part of the Secrets Manager client notify uses.
type SecretsAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// WebhookSecret reads the Slack webhook URL from Secrets Manager once and
// keeps it for the life of the container. The secret is the URL itself, or
// JSON {"webhookUrl": "..."}.
type WebhookSecret struct {
	Client SecretsAPI
	ARN    string

	mu  sync.Mutex
	url string
}

// URL returns the webhook URL. A failed read is not cached.
func (w *WebhookSecret) URL(ctx context.Context) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.url != "" {
		return w.url, nil
	}
	out, err := w.Client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(w.ARN)})
	if err != nil {
		return "", fmt.Errorf("read Slack webhook secret %s: %w", w.ARN, err)
	}
	hook := strings.TrimSpace(aws.ToString(out.SecretString))
	if strings.HasPrefix(hook, "{") {
		var v struct {
			WebhookURL string `json:"webhookUrl"`
		}
		if err := json.Unmarshal([]byte(hook), &v); err != nil {
			return "", fmt.Errorf("slack webhook secret %s: neither a URL nor JSON {\"webhookUrl\": ...}: %w", w.ARN, err)
		}
		hook = v.WebhookURL
	}
	// The value is a credential: errors do not quote it.
	if u, err := url.Parse(hook); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("slack webhook secret %s: the value is not an http(s) URL", w.ARN)
	}
	w.url = hook
	return hook, nil
}
