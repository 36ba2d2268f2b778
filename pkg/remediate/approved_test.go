package remediate

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/fix"
	"github.com/pullmedic/pullmedic/pkg/notify"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

// responseURL is a local stand-in for a click's response_url.
type responseURL struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []string
}

func newResponseURL(t *testing.T) *responseURL {
	r := &responseURL{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, string(b))
		r.mu.Unlock()
		io.WriteString(w, "ok")
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *responseURL) posts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bodies...)
}

// failingWrites fails every write, as an AccessDenied would.
type failingWrites struct{ fix.Writer }

func (failingWrites) SetServicePublicIP(context.Context, string, string, ecstypes.AssignPublicIp) (before, after *ecstypes.AwsVpcConfiguration, err error) {
	return nil, nil, errors.New("AccessDenied: not authorized to perform ecs:UpdateService")
}

// A fix approved in Slack applies on a cluster tagged "approve", records the
// approver, and replaces the clicked message with the outcome; without the
// approval it changes nothing and answers no one; a failure is told too.
func TestApprovedRequest(t *testing.T) {
	cases := []struct {
		name    string
		tag     string
		fields  func(url string) map[string]any
		failing bool
		status  fix.Status
		writes  int
		reply   string // in the one post to the response_url; "" for none
		err     string
	}{
		{"approved on an approve cluster", "approve", func(u string) map[string]any {
			return map[string]any{"approvedBy": "slack:U0A", "responseUrl": u}
		}, false, fix.StatusVerified, 1, "*Fixed*", ""},
		{"handed off without an approval", "approve", func(string) map[string]any { return nil }, false, fix.StatusPlanned, 0, "", ""},
		{"approved, but the tag was switched off since", "off", func(u string) map[string]any {
			return map[string]any{"approvedBy": "slack:U0A", "responseUrl": u}
		}, false, fix.StatusSkipped, 0, "*Not applied*", ""},
		{"approved, and the write fails", "approve", func(u string) map[string]any {
			return map[string]any{"approvedBy": "slack:U0A", "responseUrl": u}
		}, true, fix.StatusFailed, 0, "The fix failed", "AccessDenied"},
		// Whoever may invoke remediate cannot have its results sent elsewhere.
		{"approved, with a responseUrl that is not Slack's", "approve", func(u string) map[string]any {
			return map[string]any{"approvedBy": "slack:U0A", "responseUrl": strings.Replace(u, "/actions/", "/elsewhere/", 1)}
		}, false, fix.StatusVerified, 1, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			snap, err := account.ReadSnapshotFile(scenario + "snapshot.json")
			if err != nil {
				t.Fatal(err)
			}
			for i := range snap.ECS.Clusters {
				for j, tag := range snap.ECS.Clusters[i].Tags {
					if aws.ToString(tag.Key) == rules.TagAutoFix {
						snap.ECS.Clusters[i].Tags[j].Value = aws.String(tc.tag)
					}
				}
			}
			slackURL := newResponseURL(t)
			w := &countingWriter{Writer: fix.NewSnapshotWriter(snap)}
			var writer fix.Writer = w
			if tc.failing {
				writer = failingWrites{w}
			}
			h := &Handler{View: account.SnapshotView{Snap: snap}, Writer: writer, Publisher: &fakeSNS{},
				TopicARN: "arn:aws:sns:eu-west-1:111122223333:pullmedic", Table: "pullmedic-state", Now: time.Now,
				Slack: &notify.Slack{HTTP: slackURL.Client(), Attempts: 1}, ResponseURLPrefix: slackURL.URL + "/actions/"}
			res, err := h.Handle(context.Background(), request(t, tc.fields(slackURL.URL+"/actions/T0/1/x")))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one with %q", err, tc.err)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if len(res.Actions) != 1 || res.Actions[0].Status != tc.status {
				t.Fatalf("actions %s, want one %s", mustJSON(t, res.Actions), tc.status)
			}
			if w.n != tc.writes {
				t.Errorf("%d writes, want %d", w.n, tc.writes)
			}
			if res != nil {
				for _, c := range res.Changes {
					if c.Why.ApprovedBy != "slack:U0A" {
						t.Errorf("change %s records approver %q", c.ChangeID, c.Why.ApprovedBy)
					}
				}
			}
			posts := slackURL.posts()
			switch {
			case tc.reply == "" && len(posts) != 0:
				t.Errorf("answered %q, want no post", posts)
			case tc.reply != "" && (len(posts) != 1 || !strings.Contains(posts[0], tc.reply) || !strings.Contains(posts[0], `"replace_original":true`)):
				t.Errorf("posted %q, want one replacing the message with %q", posts, tc.reply)
			}
		})
	}
}
