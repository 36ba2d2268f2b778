package event

import (
	"regexp"
	"strings"
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
// (spec/stop-reasons.md), as opposed to a crash, a scale-in or a user stop.
func IsPullFailure(reason string) bool {
	s := normalize(reason)
	return containsAny(s, "cannotpullcontainererror", "the task can't pull the image", "unabletogetupstreamimageexception") ||
		strings.Contains(s, "resourceinitializationerror") && (containsAny(s, "registry auth", "secret") || reECRWord.MatchString(s))
}

// classRule maps message fragments to a class. The table is ordered: the first
// matching rule wins, so specific shapes come before the generic ones they contain
// (an S3 403 before iam's 403, a DNS lookup timeout before network's i/o timeout).
var classRules = []struct {
	class ReasonClass
	match func(s string) bool
}{
	{ClassImage, func(s string) bool { // platform
		return containsAny(s, "does not contain descriptor matching platform", "no matching manifest for")
	}},
	{ClassRegistry, func(s string) bool { // rate limit, pull-through cache
		return containsAny(s, "toomanyrequests", "429 too many requests", "pull rate limit", "unabletogetupstreamimageexception")
	}},
	{ClassNetwork, func(s string) bool { // S3 XML error: the S3 endpoint policy, not the role
		return strings.Contains(s, "<code>accessdenied</code>") ||
			strings.Contains(s, "error pulling image configuration") && strings.Contains(s, "403")
	}},
	{ClassDNS, func(s string) bool {
		return containsAny(s, "no such host", "server misbehaving", "dial tcp: lookup ")
	}},
	{ClassNetwork, func(s string) bool {
		return containsAny(s, "i/o timeout", "request canceled", "requestcanceled", "context deadline exceeded",
			"context canceled", "connection issue between the task and the registry", "client.timeout exceeded",
			"tls handshake timeout", "connection refused", "connection reset", "no route to host", "network is unreachable")
	}},
	{ClassIAM, func(s string) bool {
		return containsAny(s, "403 forbidden", "status code 403", "accessdenied", "not authorized to perform",
			"no basic auth credentials", "401 unauthorized")
	}},
	{ClassImage, func(s string) bool {
		return containsAny(s, "not found", "manifest unknown", "pull access denied", "does not exist", "name unknown")
	}},
}

var (
	reECRWord = regexp.MustCompile(`\becr\b`)
	reLookup  = regexp.MustCompile(`dial tcp: lookup ([^\s:]+)`)
	reURL     = regexp.MustCompile(`\b(?:get|head|post|put) "?https?://([^/"\s:?]+)`)
	reDialIP  = regexp.MustCompile(`dial tcp (\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:.]+\]):\d+`)
)

// Classify returns the reason class of a failure text and the host the failed call named.
func Classify(failure string) (ReasonClass, string) {
	s := normalize(failure)
	class := ClassUnknown
	for _, r := range classRules {
		if r.match(s) {
			class = r.class
			break
		}
	}
	return class, failedHost(s)
}

// failedHost picks the most specific name of the failed hop: the name being
// resolved, else the host of the innermost (last) request URL, else the dialled IP.
func failedHost(s string) string {
	if m := reLookup.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	if ms := reURL.FindAllStringSubmatch(s, -1); ms != nil {
		return ms[len(ms)-1][1]
	}
	if m := reDialIP.FindStringSubmatch(s); m != nil {
		return strings.Trim(m[1], "[]")
	}
	return ""
}
