package approve

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Slack signs every request it sends with the app's signing secret: the
// X-Slack-Signature header is "v0=" and the hex HMAC-SHA256 of
// "v0:<X-Slack-Request-Timestamp>:<raw body>". A request whose timestamp is
// more than five minutes from now may be a replay and is refused.
// https://api.slack.com/authentication/verifying-requests-from-slack

// MaxSkew is how far a request's timestamp may be from now.
const MaxSkew = 5 * time.Minute

// Signature headers, as a Lambda Function URL event has them: lower case.
const (
	headerSignature = "x-slack-signature"
	headerTimestamp = "x-slack-request-timestamp"
)

// Why Verify refuses a request. Each is answered 401 and changes nothing.
var (
	ErrUnsigned     = errors.New("unsigned request: X-Slack-Signature or X-Slack-Request-Timestamp is missing")
	ErrBadTimestamp = errors.New("X-Slack-Request-Timestamp is not a Unix time in seconds")
	ErrStale        = errors.New("stale request")
	ErrBadSignature = errors.New("wrong signature: X-Slack-Signature does not match the body signed with the app's signing secret")
)

// Verify checks that body came from Slack, signed with secret, within
// MaxSkew of now. The signatures are compared in constant time, so the
// comparison tells an attacker nothing about how close a guess was.
func Verify(secret, timestamp, signature string, body []byte, now time.Time) error {
	if timestamp == "" || signature == "" {
		return ErrUnsigned
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrBadTimestamp
	}
	if skew := now.Sub(time.Unix(ts, 0)); skew > MaxSkew || skew < -MaxSkew {
		return fmt.Errorf("%w: its timestamp is %s from now, more than %s", ErrStale, skew.Abs().Round(time.Second), MaxSkew)
	}
	hexSig, ok := strings.CutPrefix(signature, "v0=")
	got, err := hex.DecodeString(hexSig)
	if !ok || err != nil {
		return ErrBadSignature
	}
	if !hmac.Equal(got, Sign(secret, timestamp, body)) {
		return ErrBadSignature
	}
	return nil
}

// Sign is the v0 signature of a request, as raw bytes; the header carries
// "v0=" and their hex. Slack signs this way, and tests sign their clicks with it.
func Sign(secret, timestamp string, body []byte) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + timestamp + ":"))
	mac.Write(body)
	return mac.Sum(nil)
}
