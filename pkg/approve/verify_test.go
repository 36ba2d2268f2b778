package approve

import (
	"encoding/hex"
	"errors"
	"strconv"
	"testing"
	"time"
)

// Slack's own example from
// https://api.slack.com/authentication/verifying-requests-from-slack: the
// signing secret, timestamp and body of a slash command, and the signature
// Slack computed for them.
const (
	docSecret    = "8f742231b10e8888abcd99yyyzzz85a5"
	docTimestamp = "1531420618"
	docBody      = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	docSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

func TestVerify(t *testing.T) {
	ts, _ := strconv.ParseInt(docTimestamp, 10, 64)
	at := time.Unix(ts, 0)
	cases := []struct {
		name               string
		secret, stamp, sig string
		body               string
		now                time.Time
		want               error
	}{
		{"Slack's documented example", docSecret, docTimestamp, docSignature, docBody, at, nil},
		{"four minutes later", docSecret, docTimestamp, docSignature, docBody, at.Add(4 * time.Minute), nil},
		{"six minutes later: stale", docSecret, docTimestamp, docSignature, docBody, at.Add(6 * time.Minute), ErrStale},
		{"six minutes early: stale", docSecret, docTimestamp, docSignature, docBody, at.Add(-6 * time.Minute), ErrStale},
		{"no signature", docSecret, docTimestamp, "", docBody, at, ErrUnsigned},
		{"no timestamp", docSecret, "", docSignature, docBody, at, ErrUnsigned},
		{"timestamp in milliseconds", docSecret, docTimestamp + "000", docSignature, docBody, at, ErrStale},
		{"timestamp not a number", docSecret, "yesterday", docSignature, docBody, at, ErrBadTimestamp},
		{"another secret", "0000000000000000abcd99yyyzzz85a5", docTimestamp, docSignature, docBody, at, ErrBadSignature},
		{"body changed", docSecret, docTimestamp, docSignature, docBody + "&text=rm", at, ErrBadSignature},
		{"signature without v0=", docSecret, docTimestamp, docSignature[3:], docBody, at, ErrBadSignature},
		{"version v1", docSecret, docTimestamp, "v1=" + docSignature[3:], docBody, at, ErrBadSignature},
		{"not hex", docSecret, docTimestamp, "v0=zz", docBody, at, ErrBadSignature},
		{"truncated", docSecret, docTimestamp, docSignature[:40], docBody, at, ErrBadSignature},
		{"another timestamp, same signature", docSecret, "1531420619", docSignature, docBody, at, ErrBadSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.secret, tc.stamp, tc.sig, []byte(tc.body), tc.now)
			if !errors.Is(err, tc.want) {
				t.Errorf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSignMatchesSlack(t *testing.T) {
	if got := "v0=" + hex.EncodeToString(Sign(docSecret, docTimestamp, []byte(docBody))); got != docSignature {
		t.Errorf("Sign = %s, want Slack's %s", got, docSignature)
	}
}
