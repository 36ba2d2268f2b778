package notify

import (
	"cmp"
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

// Block Kit limits: a header's plain text, and every other text object
// (section text, context elements). A message holds at most 50 blocks;
// SlackMessage builds at most ten, whatever the report holds.
const (
	headerMax = 150
	textMax   = 3000
	// lineMax bounds one line of a list (a reason, an evidence hop), so
	// that one long line does not crowd the others out of a section.
	lineMax = 500
)

var icons = map[Kind]string{Problem: ":red_circle:", StillFailing: ":large_orange_circle:", Resolved: ":white_check_mark:"}

// SlackMessage builds the Block Kit message of a notice: the cause in the
// header, a context line, the diagnosis (cause, stop reason, evidence chain,
// fix) and console links. Long texts are clipped with a marker to Block
// Kit's limits, which Slack enforces by refusing the whole message.
func SlackMessage(n *Notice) *slack.WebhookMessage {
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, truncate(icons[n.Kind]+" "+n.Headline(), headerMax), true, false)),
	}
	if s := n.Status(); s != "" {
		blocks = append(blocks, section(escClip(s, textMax)))
	}
	blocks = append(blocks, slack.NewContextBlock("", contextLine(n)...))
	if n.Kind != Resolved && n.Report != nil {
		blocks = append(blocks, diagnosis(n.Report, n.escalated())...)
		if n.Approval != nil {
			blocks = append(blocks, ApprovalBlocks(*n.Approval)...)
		}
	}
	if len(n.Links) > 0 {
		var links []string
		for _, l := range n.Links {
			links = append(links, "<"+l.URL+"|"+esc(l.Label)+">")
		}
		blocks = append(blocks, section(titled("AWS console", links, " · ")))
	}
	return &slack.WebhookMessage{Text: n.Subject(), Blocks: &slack.Blocks{BlockSet: blocks}}
}

// section is a mrkdwn section. Its callers fit their text to textMax; the
// clip here only guards the limit.
func section(mrkdwn string) *slack.SectionBlock {
	return slack.NewSectionBlock(mrkdwnText(mrkdwn), nil, nil)
}

func mrkdwnText(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, Clip(s, textMax), false, false)
}

// esc escapes the three characters Slack's mrkdwn reserves.
func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// escClip escapes s and clips it to limit bytes. It clips before escaping,
// so no escape is cut in half, and clips shorter while escaping outgrows
// the limit.
func escClip(s string, limit int) string {
	for l := limit; ; {
		e := esc(Clip(s, l))
		if len(e) <= limit || l <= 0 {
			return e
		}
		l -= len(e) - limit
	}
}

func code(s string) string { return "`" + esc(s) + "`" }

// codeBlock fences s, clipped so that the fence fits in limit bytes and is closed.
func codeBlock(s string, limit int) string { return "```" + escClip(s, limit-6) + "```" }

// titled is a bold title over mrkdwn lines joined by sep, as many as fit in
// textMax; a last line says how many did not.
func titled(title string, lines []string, sep string) string {
	return fitLines("*"+title+"*\n", lines, sep, textMax)
}

// fitLines appends lines to head, joined by sep, while they fit in limit
// bytes, keeping room to say how many were left out.
func fitLines(head string, lines []string, sep string, limit int) string {
	const room = 32 // for the note on what was left out
	b := strings.Builder{}
	b.WriteString(head)
	for i, l := range lines {
		if i > 0 {
			l = sep + l
		}
		rest := len(lines) - i
		if b.Len()+len(l) > limit-room && (rest > 1 || b.Len()+len(l) > limit) {
			fmt.Fprintf(&b, "%s… [%d more cut]", sep, rest)
			break
		}
		b.WriteString(l)
	}
	return b.String()
}

func contextLine(n *Notice) []slack.MixedElement {
	field := func(name, value string) slack.MixedElement {
		return mrkdwnText("*" + name + "* " + value)
	}
	var out []slack.MixedElement
	if n.Account != "" {
		out = append(out, field("Account", esc(n.Account)))
	}
	if n.Region != "" {
		out = append(out, field("Region", esc(n.Region)))
	}
	out = append(out, field("Cluster", esc(n.Cluster)))
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
			out = append(out, mrkdwnText(fitLines("*Image* ", images, ", ", textMax)))
		}
	}
	return append(out, field("Time", stamp(n.Time)))
}

// diagnosis is the cause (or why there is none), the rules that could not be
// checked, the stop reason, the evidence chain and the fix.
func diagnosis(r *report.Report, escalated bool) []slack.Block {
	cause, hasCause := r.CauseFinding()
	var blocks []slack.Block
	switch {
	case hasCause:
		head := fmt.Sprintf("*%s* %s (%s)\n", r.CauseLabel(), code(cause.Rule), cause.Severity)
		blocks = append(blocks, section(head+escClip(cause.Message, textMax-len(head))))
	case r.Inconclusive:
		blocks = append(blocks, section("*Inconclusive.* "+esc(r.InconclusiveSummary())))
	default:
		blocks = append(blocks, section("*No check fails.* The account looks able to pull the image now; the stop reason below is all there is."))
	}
	if len(r.Unchecked) > 0 {
		var lines []string
		for _, u := range r.Unchecked {
			line := "• " + code(u.Rule) + ": " + escClip(u.Reason, lineMax)
			if open := u.LeavesOpen(); open != "" {
				line += "\n   _unknown:_ " + esc(open)
			}
			lines = append(lines, line)
		}
		lines = append(lines, esc(report.UncheckedAdvice))
		blocks = append(blocks, section(titled("Could not check", lines, "\n")))
	}
	if r.Task.StoppedReason != "" {
		const head = "*Stop reason*\n"
		blocks = append(blocks, section(head+codeBlock(r.Task.StoppedReason, textMax-len(head))))
	}
	if chain := r.Chain(); len(chain) > 0 {
		hops := make([]string, len(chain))
		for i, hop := range chain {
			hops[i] = escClip(hop, lineMax)
		}
		blocks = append(blocks, section(titled("Evidence", hops, "\n→ ")))
	}
	if hasCause {
		blocks = append(blocks, section("*Fix*\n"+fixText(r, cause, escalated, textMax-len("*Fix*\n"))))
	}
	return blocks
}

// fixText says what happens about the cause: the auto-fix the cluster's tag
// allows, the dry run, or the manual step (always, once escalated), in at
// most limit bytes.
func fixText(r *report.Report, cause rules.Finding, escalated bool, limit int) string {
	var b strings.Builder
	steps := func(keep func(rules.Step) bool) {
		var lines []string
		for _, s := range r.Plan {
			if keep(s) {
				lines = append(lines, fmt.Sprintf("• %s on %s", code(s.Action), code(s.Target)))
			}
		}
		// Half the room at most, so the manual advice keeps the rest.
		b.WriteString(fitLines("", lines, "\n", limit/2-b.Len()) + "\n")
	}
	allowed := func(s rules.Step) bool { return rules.Contains(r.AutoFix.Actions, s.Action) }
	manual := true
	switch {
	case escalated:
		b.WriteString("Not fixed automatically: this cause came back after a verified fix.\n")
	case r.AutoFix.Mode == rules.ModeDryRun && len(r.Plan) > 0:
		fmt.Fprintf(&b, "Dry run (%s): nothing is changed. Auto-fix would apply:\n", code(rules.TagAutoFix+"=dry-run"))
		steps(func(rules.Step) bool { return true })
	case r.AutoFix.Mode == rules.ModeApprove && len(r.Plan) == 0:
		// Nothing to approve: the manual step below is all there is.
	case len(r.AutoFix.Actions) > 0:
		if r.AutoFix.Mode == rules.ModeApprove {
			fmt.Fprintf(&b, "Approve (%s): nothing is changed until an approver clicks *Apply fix*; then the remediate function diagnoses again, applies what still holds and verifies:\n", code(rules.TagAutoFix+"=approve"))
		} else {
			fmt.Fprintf(&b, "Auto-fix (%s): the remediate function applies and then verifies:\n", code(rules.TagAutoFix))
		}
		steps(allowed)
		manual = false
		for _, s := range r.Plan {
			manual = manual || !allowed(s)
		}
	case len(r.Plan) > 0:
		fmt.Fprintf(&b, "pullmedic can fix this itself when the cluster is tagged %s.\n", code(rules.TagAutoFix+"=enabled"))
	}
	if manual && cause.Advice != "" {
		b.WriteString(codeBlock(cause.Advice, limit-b.Len()))
	}
	return strings.TrimSpace(b.String())
}

// SlackResponseURLPrefix is where Slack's response_urls point: the only
// place the approve and remediate functions post a reply to, unless told
// otherwise (SLACK_RESPONSE_URL_PREFIX, for tests against a local server).
const SlackResponseURLPrefix = "https://hooks.slack.com/"

// Slack posts notices to an incoming webhook. Each post has its own
// deadline, so a Slack that hangs costs one timeout per attempt rather than
// the function's whole run. It honours Retry-After on 429 and backs off on
// 5xx, timeouts and connection errors, within the context's deadline; a
// notice it cannot deliver is an error, never dropped in silence.
type Slack struct {
	// URL returns the webhook URL; see WebhookSecret.
	URL func(ctx context.Context) (string, error)
	// HTTP is the client; nil means http.DefaultClient.
	HTTP *http.Client
	// Attempts bounds the posts of one notice; 0 means 5.
	Attempts int
	// Backoff is the first wait after a 5xx, timeout or connection error,
	// doubled on each retry; 0 means 500ms.
	Backoff time.Duration
	// Timeout bounds each post; 0 means 5s. Slack answers a webhook in well
	// under a second.
	Timeout time.Duration
}

func (s *Slack) Notify(ctx context.Context, n *Notice) error {
	hook, err := s.URL(ctx)
	if err != nil {
		return err
	}
	return s.Post(ctx, hook, SlackMessage(n))
}

// Post sends one message to a Slack URL that takes a message body: the
// incoming webhook, or an interaction's response_url (which updates the
// message clicked), with the retries and deadlines described on Slack. URL
// is not used.
func (s *Slack) Post(ctx context.Context, hook string, msg *slack.WebhookMessage) error {
	client := cmp.Or(s.HTTP, http.DefaultClient)
	attempts := cmp.Or(max(s.Attempts, 0), 5)
	backoff := cmp.Or(max(s.Backoff, 0), 500*time.Millisecond)
	for attempt := 1; ; attempt++ {
		err := s.post(ctx, hook, client, msg)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("slack webhook, attempt %d: %w", attempt, errors.Join(err, ctx.Err()))
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

// post makes one attempt, within the per-post timeout.
func (s *Slack) post(ctx context.Context, hook string, client *http.Client, msg *slack.WebhookMessage) error {
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(max(s.Timeout, 0), 5*time.Second))
	defer cancel()
	return slack.PostWebhookCustomHTTPContext(ctx, hook, client, msg)
}

// retryAfter says whether a failed post may succeed later, and when to
// retry. The caller has ruled out its own context ending, so a deadline here
// is the post's own timeout: Slack hung, and may answer the next one.
func retryAfter(err error, backoff time.Duration) (time.Duration, bool) {
	var limited *slack.RateLimitedError
	var status slack.StatusCodeError
	switch {
	case errors.As(err, &limited):
		return max(limited.RetryAfter, time.Second), true
	case errors.As(err, &status):
		return backoff, status.Retryable()
	default: // the connection failed or timed out
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
