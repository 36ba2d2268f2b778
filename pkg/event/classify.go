package event

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// normalize lowercases a reason and straightens the ECS agent's curly apostrophe.
func normalize(s string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), "’", "'"))
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// IsPullFailure reports whether a stop reason is an image pull failure
// (docs/stop-reasons.md), as opposed to a crash, a scale-in or a user stop.
// The error name may come in any casing, anywhere (the EC2 agent puts its own
// sentence first); CannotPullECRContainerError is the EC2 agent's name for a
// failed ECR authentication.
func IsPullFailure(reason string) bool {
	s := normalize(reason)
	return containsAny(s, "cannotpullcontainererror", "cannotpullecrcontainererror", "the task can't pull the image", "unabletogetupstreamimageexception") ||
		strings.Contains(s, "resourceinitializationerror") && (containsAny(s, "registry auth", "secret") || reECRWord.MatchString(s))
}

// classRule maps message fragments to a class. The table is ordered: the first
// matching rule wins, so specific shapes come before the generic ones they
// contain (no room on disk before any layer error, an image's platform before
// "not found", a registry's 5xx before network, an S3 403 before iam's 403, a
// DNS lookup timeout before network's i/o timeout).
type classRule struct {
	class   ReasonClass
	phrases []string
	match   func(s string) bool // for shapes a phrase cannot say; may be nil
}

func (r classRule) matches(s string) bool {
	return containsAny(s, r.phrases...) || r.match != nil && r.match(s)
}

var classRules = []classRule{
	{class: ClassHost, phrases: []string{ // the pull's own disk is full (Windows says it its way)
		"no space left on device", "not enough space on the disk"}},
	{class: ClassImage, phrases: []string{ // no manifest for the task's platform, or a newer Windows build than the host
		"does not contain descriptor matching platform", "no matching manifest for", "failed to find a descriptor for platform",
		"no match for platform", "-based image is incompatible with a"}},
	{class: ClassImage, phrases: []string{ // a broken push: the manifest names layers the registry or the config does not have
		"unknown blob", "mismatched image rootfs and manifest layers", "layers from manifest don't match image configuration",
		"number of layers and diffids don't match", "filesystem layer verification failed"}},
	{class: ClassRegistry, phrases: []string{ // throttled, or the pull-through cache's upstream failed
		"toomanyrequests", "429 too many requests", "pull rate limit", "unabletogetupstreamimageexception"}},
	{class: ClassRegistry, phrases: []string{ // the registry answered, with a server error: an outage
		"500 internal server error", "502 bad gateway", "503 service unavailable", "504 gateway time",
		"could not reach any registry endpoint"}},
	{class: ClassNetwork, match: func(s string) bool { // S3 XML error: the S3 endpoint policy, not the role
		return strings.Contains(s, "<code>accessdenied</code>") ||
			strings.Contains(s, "error pulling image configuration") && strings.Contains(s, "403")
	}},
	{class: ClassDNS, phrases: []string{"no such host", "server misbehaving", "dial tcp: lookup "}},
	{class: ClassNetwork, phrases: []string{
		"i/o timeout", "request canceled", "requestcanceled", "context deadline exceeded",
		"context canceled", "connection issue between the task and", "client.timeout exceeded",
		"tls handshake timeout", "connection refused", "connection reset", "no route to host", "network is unreachable",
		"send request failed", "request send failed"}},
	{class: ClassIAM, phrases: []string{
		"403 forbidden", "status code 403", "accessdenied", "not authorized to perform",
		"no basic auth credentials", "401 unauthorized", "ecr auth:"},
		// ECR tells an authorised caller that a repository is missing ("name
		// unknown"); "pull access denied" from an ECR host means no valid credentials.
		match: reECRAccessDenied.MatchString},
	{class: ClassImage, phrases: []string{"not found", "manifest unknown", "pull access denied", "does not exist", "name unknown"}},
}

var (
	reECRWord         = regexp.MustCompile(`\becr\b`)
	reECRAccessDenied = regexp.MustCompile(`pull access denied for [^\s,]+\.dkr\.ecr\.`)
	reLookup          = regexp.MustCompile(`dial tcp: lookup ([^\s:]+)`)
	// A URL the failed request went to: after the HTTP verb (Go's net/http, the
	// AWS SDK), after containerd's "unexpected status code" or "... request to".
	// Not just any URL: a registry's message may link to its documentation.
	reURL         = regexp.MustCompile(`(?:\b(?:get|head|post|put) "?|unexpected status code |request to )https?://([^/"\s:?]+)`)
	rePullingFrom = regexp.MustCompile(`pulling from host ([^\s:/]+)`)
	reDialIP      = regexp.MustCompile(`dial tcp (\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:.]+\]):\d+`)
	reRetried     = regexp.MustCompile(`has been retried (\d+) time`)
	reLayerWrite  = regexp.MustCompile(`failed to (?:extract|register) layer.*: write /`)
)

// consoleLimit is where the ECS console cuts a stop reason; reasons people
// copy from it are this long, or end in an ellipsis.
const consoleLimit = 255

// cutOff removes the ellipsis of a cut-off reason and reports whether the
// reason was cut, so that a half-written host is not reported and the cut
// last word can still be read.
func cutOff(s string) (string, bool) {
	for _, e := range []string{"...", "…"} {
		if t, ok := strings.CutSuffix(s, e); ok {
			return strings.TrimRight(t, ". "), true
		}
	}
	return s, utf8.RuneCountInString(s) >= consoleLimit
}

// Classify returns the reason class of a failure text and the host the failed call named.
func Classify(failure string) (ReasonClass, string) {
	s, cut := cutOff(normalize(failure))
	return classOf(s, cut), failedHost(s)
}

func classOf(s string, cut bool) ReasonClass {
	for _, r := range classRules {
		if r.matches(s) {
			return r.class
		}
	}
	if cut {
		if c, ok := completeCutWord(s); ok {
			return c
		}
	}
	return guess(s)
}

// completeCutWord reads a reason whose last words were cut: "...: context ca"
// is "context canceled". The cut tail must be long enough to say something.
func completeCutWord(s string) (ReasonClass, bool) {
	tail := s
	if i := strings.LastIndex(s, ": "); i >= 0 {
		tail = s[i+2:]
	}
	if len(tail) < 4 {
		return "", false
	}
	for _, r := range classRules {
		for _, p := range r.phrases {
			if len(p) > len(tail) && strings.HasPrefix(p, tail) {
				return r.class, true
			}
		}
	}
	return "", false
}

// guess names the class of a reason that says what failed but not why, most
// often because the console cut the why off.
func guess(s string) ReasonClass {
	switch {
	case reLayerWrite.MatchString(s):
		// A write that failed while unpacking a layer: the disk was full.
		return ClassHost
	case strings.Contains(s, "error pulling image configuration") && strings.Contains(s, "starport-layer-bucket"):
		// The image config comes from ECR's S3 bucket: the S3 path failed.
		return ClassNetwork
	case strings.Contains(s, "unexpected status code https://") && publicRegistry(failedHost(s)):
		// A public registry answered with an error whose status was cut off.
		return ClassRegistry
	case strings.Contains(s, "dial tcp "):
		// A connection attempt whose outcome was cut off.
		return ClassNetwork
	case strings.Contains(s, "resourceinitializationerror") && retriedMoreThanOnce(s):
		// The agent retries what may pass (timeouts), not a refusal: an
		// AccessDenied fails on the first try.
		return ClassNetwork
	}
	return ClassUnknown
}

func retriedMoreThanOnce(s string) bool {
	m := reRetried.FindStringSubmatch(s)
	if m == nil {
		return false
	}
	n, err := strconv.Atoi(m[1])
	return err == nil && n > 1
}

// publicRegistries are registries anyone pulls from, whose outages and limits
// are the registry's, not the account's.
var publicRegistries = []string{"docker.io", "public.ecr.aws", "ghcr.io", "quay.io", "gcr.io", "mcr.microsoft.com", "registry.k8s.io"}

func publicRegistry(host string) bool {
	for _, r := range publicRegistries {
		if host == r || strings.HasSuffix(host, "."+r) {
			return true
		}
	}
	return false
}

// failedHost picks the most specific name of the failed hop: the name being
// resolved, else the host of the innermost (last) request URL, else the
// registry the pull was refused by, else the dialled IP. A name that runs to
// the end of a cut-off reason is incomplete and is not reported.
func failedHost(s string) string {
	complete := func(m []int) bool { return m[3] < len(s) }
	if m := reLookup.FindStringSubmatchIndex(s); m != nil && complete(m) {
		return s[m[2]:m[3]]
	}
	if ms := reURL.FindAllStringSubmatchIndex(s, -1); ms != nil {
		if m := ms[len(ms)-1]; complete(m) {
			return s[m[2]:m[3]]
		}
	}
	if m := rePullingFrom.FindStringSubmatchIndex(s); m != nil && complete(m) {
		return s[m[2]:m[3]]
	}
	if m := reDialIP.FindStringSubmatch(s); m != nil {
		return strings.Trim(m[1], "[]")
	}
	return ""
}
