// Package approve is the approve function's flow: Slack's interactivity
// requests (a click on "Apply fix" or "Dismiss" under a plan that diagnose
// posted for a cluster tagged pullmedic:auto-fix=approve) arrive through a
// Lambda Function URL. Each is verified (the signing secret, a timestamp
// within five minutes), read, checked against the allowlist of approvers,
// and decided once (a conditional update of the approval record, so a
// replayed or second click changes nothing). "Apply fix" hands the stored
// request, with who approved and where to answer, to the remediate function,
// which diagnoses again on fresh state and applies only what still holds,
// then posts the outcome to the click's response_url.
//
// The function answers at once: Slack wants an answer within three seconds
// (https://api.slack.com/interactivity/handling), and a remediation takes
// longer. So the message says "applying" first, and remediate replaces it
// with the outcome when it is done.
package approve

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/slack-go/slack"

	"github.com/pullmedic/pullmedic/pkg/fix"
	"github.com/pullmedic/pullmedic/pkg/notify"
	"github.com/pullmedic/pullmedic/pkg/state"
)

// Decider records the one decision an approval gets; *state.Approvals implements it.
type Decider interface {
	Decide(ctx context.Context, id string, d state.Decision, by string) (*state.Approval, error)
	Undecide(ctx context.Context, id, by string) error
}

// Invoker is the part of the Lambda client that starts the remediate function.
type Invoker interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// Poster posts a message to a click's response_url; *notify.Slack implements it.
type Poster interface {
	Post(ctx context.Context, url string, msg *slack.WebhookMessage) error
}

// maxBody bounds a request body: a click carries the whole message clicked
// (at most 50 blocks of 3,000 characters), well under this.
const maxBody = 1 << 20

// Deadlines: Slack wants the answer within 3 s; each call gets a share, and
// a call past its deadline fails the click with a clear answer.
const (
	secretCall = 2 * time.Second
	tableCall  = 2 * time.Second
	invokeCall = 2 * time.Second
	replyCall  = 2 * time.Second
)

// Handler handles the requests of the approve function's URL. All fields
// but Now, Log and ResponseURLPrefix are required.
type Handler struct {
	// Secret returns the Slack app's signing secret; see SigningSecret.
	Secret    func(ctx context.Context) (string, error)
	Approvals Decider
	Invoker   Invoker
	Remediate string // the remediate function's name or ARN
	// Approvers are the Slack user IDs allowed to decide; nobody when empty.
	Approvers []string
	// Slack posts the replies to response_url.
	Slack Poster
	// ResponseURLPrefix is what a response_url must start with;
	// notify.SlackResponseURLPrefix when empty.
	ResponseURLPrefix string
	Now               func() time.Time
	Log               *slog.Logger
}

// answer is the HTTP answer to one request. Slack shows the clicker nothing
// of it; the replies they see go through response_url. Its text is for the
// log, and for whoever sent a request that is not Slack's.
func answer(status int, format string, args ...any) events.LambdaFunctionURLResponse {
	return events.LambdaFunctionURLResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "text/plain; charset=utf-8"},
		Body:       fmt.Sprintf(format, args...) + "\n",
	}
}

// Handle answers one request of the function URL. It never returns an
// error: every failure is an HTTP answer that says what went wrong, and
// nothing is changed unless the request is a verified click of an approver
// on an approval still open.
func (h *Handler) Handle(ctx context.Context, req events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
	log := cmp.Or(h.Log, slog.Default()).With("requestId", req.RequestContext.RequestID, "sourceIp", req.RequestContext.HTTP.SourceIP)
	res := h.handle(ctx, log, req)
	level := slog.LevelInfo
	if res.StatusCode >= 400 {
		level = slog.LevelWarn
	}
	log.Log(ctx, level, "answered", "status", res.StatusCode, "answer", strings.TrimSpace(res.Body))
	return res, nil
}

func (h *Handler) handle(ctx context.Context, log *slog.Logger, req events.LambdaFunctionURLRequest) events.LambdaFunctionURLResponse {
	if m := req.RequestContext.HTTP.Method; m != http.MethodPost {
		return answer(http.StatusMethodNotAllowed, "method %s: Slack's interactivity requests are POSTs", m)
	}
	// A Function URL hands a body that is not text over base64-encoded:
	// https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(req.Body); err != nil {
			return answer(http.StatusBadRequest, "the body is marked base64 but does not decode: %v", err)
		}
	}
	if len(body) > maxBody {
		return answer(http.StatusRequestEntityTooLarge, "the body is %d bytes, more than a click's %d", len(body), maxBody)
	}
	sctx, cancel := context.WithTimeout(ctx, secretCall)
	secret, err := h.Secret(sctx)
	cancel()
	if err != nil {
		log.Error("cannot read the signing secret", "error", err)
		return answer(http.StatusInternalServerError, "cannot verify the request: the signing secret could not be read")
	}
	if err := Verify(secret, header(req.Headers, headerTimestamp), header(req.Headers, headerSignature), body, h.now()); err != nil {
		return answer(http.StatusUnauthorized, "refused: %v; nothing was changed", err)
	}
	click, err := ParseClick(body)
	if err != nil {
		return answer(http.StatusBadRequest, "refused: %v; nothing was changed", err)
	}
	if prefix := cmp.Or(h.ResponseURLPrefix, notify.SlackResponseURLPrefix); !strings.HasPrefix(click.ResponseURL, prefix) {
		return answer(http.StatusBadRequest, "refused: the response_url is not under %s; nothing was changed", prefix)
	}
	log = log.With("approval", click.Approval, "decision", click.Decision, "user", click.User, "userName", click.Name)
	if !slices.Contains(h.Approvers, click.User) {
		h.reply(ctx, log, click, notify.Ephemeral(fmt.Sprintf(
			"%s is not an approver of pullmedic fixes (the stack's SlackApprovers parameter), so nothing was changed.", notify.Mention(click.User))))
		return answer(http.StatusOK, "refused: %s is not an approver; nothing was changed", click.User)
	}
	return h.decide(ctx, log, click)
}

// decide records the click's decision, if it is the first on an open
// approval, and acts on it.
func (h *Handler) decide(ctx context.Context, log *slog.Logger, click *Click) events.LambdaFunctionURLResponse {
	tctx, cancel := context.WithTimeout(ctx, tableCall)
	a, err := h.Approvals.Decide(tctx, click.Approval, click.Decision, click.User)
	cancel()
	switch {
	case errors.Is(err, state.ErrApprovalNotFound):
		h.reply(ctx, log, click, notify.Ephemeral("This approval is not known to pullmedic (it is more than a week old, or was never posted), so nothing was changed."))
		return answer(http.StatusOK, "refused: unknown approval %s; nothing was changed", click.Approval)
	case errors.Is(err, state.ErrApprovalDecided):
		// A replay, a double click, or a second person: the first decided.
		what := map[state.Decision]string{state.DecisionApply: "approved", state.DecisionDismiss: "dismissed"}[a.Decision]
		at := ""
		if a.DecidedAt != nil {
			at = " at " + a.DecidedAt.UTC().Format("15:04 UTC")
		}
		h.reply(ctx, log, click, notify.Ephemeral(fmt.Sprintf("Already %s by %s%s; this click changes nothing.", what, notify.Mention(a.DecidedBy), at)))
		return answer(http.StatusOK, "refused: approval %s was already %s by %s; nothing was changed", click.Approval, what, a.DecidedBy)
	case errors.Is(err, state.ErrApprovalExpired):
		h.reply(ctx, log, click, notify.ApprovalExpired(subject(a), a.ValidUntil))
		return answer(http.StatusOK, "refused: approval %s expired at %s; nothing was changed", click.Approval, a.ValidUntil.UTC().Format(time.RFC3339))
	case err != nil:
		log.Error("cannot record the decision", "error", err)
		return answer(http.StatusInternalServerError, "the decision could not be recorded, so nothing was changed; click again")
	}
	if click.Decision == state.DecisionDismiss {
		h.reply(ctx, log, click, notify.ApprovalDismissed(subject(a), approver(click), h.now()))
		return answer(http.StatusOK, "dismissed approval %s", click.Approval)
	}
	return h.apply(ctx, log, click, a)
}

// apply hands the approved request to the remediate function, asynchronously,
// with who approved it and where to post the outcome. The request is the one
// diagnose stored; remediate compares its plan with a fresh diagnosis and
// applies only what still holds.
func (h *Handler) apply(ctx context.Context, log *slog.Logger, click *Click, a *state.Approval) events.LambdaFunctionURLResponse {
	payload, err := approved(a.Request, approver(click), click.ResponseURL)
	if err != nil {
		// Clicking again cannot mend a stored request; the decision stays.
		log.Error("the stored request does not decode", "error", err)
		h.reply(ctx, log, click, notify.ApprovalNotStarted(subject(a), a.ValidUntil, errors.New("the stored plan is unreadable")))
		return answer(http.StatusInternalServerError, "approval %s: the stored request is unreadable; nothing was changed", click.Approval)
	}
	// Said first: remediate's outcome must replace it, never the reverse.
	h.reply(ctx, log, click, notify.ApprovalApplying(subject(a), approver(click)))
	ictx, cancel := context.WithTimeout(ctx, invokeCall)
	_, err = h.Invoker.Invoke(ictx, &lambda.InvokeInput{
		FunctionName:   aws.String(h.Remediate),
		InvocationType: lambdatypes.InvocationTypeEvent,
		Payload:        payload,
	})
	cancel()
	if err != nil {
		log.Error("cannot invoke remediate: taking the decision back", "error", err)
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tableCall)
		if uerr := h.Approvals.Undecide(uctx, click.Approval, click.User); uerr != nil {
			log.Error("cannot take the decision back; the approval stays decided", "error", uerr)
		}
		cancel()
		h.reply(ctx, log, click, notify.ApprovalNotStarted(subject(a), a.ValidUntil, errors.New("the remediate function could not be started")))
		return answer(http.StatusBadGateway, "approval %s: the remediate function could not be started; nothing was changed", click.Approval)
	}
	log.Info("remediate invoked", "cluster", a.Cluster, "group", a.Group, "cause", a.Cause)
	return answer(http.StatusOK, "applying approval %s", click.Approval)
}

// approved is the stored request with the approver and the response_url,
// checked the way remediate will read it.
func approved(stored, approver, responseURL string) ([]byte, error) {
	var req fix.Request
	if err := json.Unmarshal([]byte(stored), &req); err != nil {
		return nil, err
	}
	req.ApprovedBy, req.ResponseURL = approver, responseURL
	payload, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	if _, _, err := fix.DecodeRequest(payload); err != nil {
		return nil, err
	}
	return payload, nil
}

// reply posts to the click's response_url. A reply that fails is logged:
// the decision stands, and the answer says what happened.
func (h *Handler) reply(ctx context.Context, log *slog.Logger, click *Click, msg *slack.WebhookMessage) {
	ctx, cancel := context.WithTimeout(ctx, replyCall)
	defer cancel()
	if err := h.Slack.Post(ctx, click.ResponseURL, msg); err != nil {
		log.Error("cannot reply through response_url", "error", err)
	}
}

func (h *Handler) now() time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}

// approver is how a click's user is recorded: fix.Request's approvedBy.
func approver(c *Click) string { return "slack:" + c.User }

func subject(a *state.Approval) notify.ApprovalSubject {
	return notify.ApprovalSubject{ID: a.ID, Cluster: a.Cluster, Group: a.Group, Cause: a.Cause}
}

// header reads a header whatever its case: Function URLs pass them lower
// case, but nothing promises it.
func header(h map[string]string, name string) string {
	if v, ok := h[name]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
