package event

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// corpusPath holds stop reasons copied verbatim from public threads, one JSON
// object a line, each with the thread it came from and the class that thread
// established. e2e/eventpattern_test.go reads the same file.
const corpusPath = "testdata/corpus/stop-reasons.jsonl"

// The corpus figures may only go up: a change to the classifier that loses a
// class or a host fails here. Raise them when the classifier improves.
const (
	corpusMinClassRight = 46
	corpusMinHostsFound = 18
)

type corpusEntry struct {
	Message   string `json:"message"`
	Source    string `json:"source"`
	Class     string `json:"class"`
	Host      string `json:"host"`
	Truncated bool   `json:"truncated"`
	Note      string `json:"note"`
}

func loadCorpus(t *testing.T) []corpusEntry {
	t.Helper()
	f, err := os.Open(corpusPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		var e corpusEntry
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("%s:%d: %v", corpusPath, line, err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCorpusIsWellFormed keeps the corpus honest: a source for every message,
// a class from the catalog, a host that the message really names, no duplicates.
func TestCorpusIsWellFormed(t *testing.T) {
	corpus := loadCorpus(t)
	if len(corpus) < 40 {
		t.Errorf("corpus has %d messages, want at least 40", len(corpus))
	}
	known := map[string]bool{}
	for _, c := range []ReasonClass{ClassNetwork, ClassDNS, ClassIAM, ClassImage, ClassRegistry, ClassHost} {
		known[string(c)] = true
	}
	seen := map[string]bool{}
	for i, e := range corpus {
		switch {
		case e.Message == "" || !strings.HasPrefix(e.Source, "https://"):
			t.Errorf("entry %d: message and an https source are required: %+v", i+1, e)
		case !known[e.Class]:
			t.Errorf("entry %d: class %q is not a reason class", i+1, e.Class)
		case e.Host != "" && !strings.Contains(strings.ToLower(e.Message), strings.ToLower(e.Host)):
			t.Errorf("entry %d: host %q does not occur in the message", i+1, e.Host)
		case seen[e.Message]:
			t.Errorf("entry %d: duplicate message", i+1)
		}
		seen[e.Message] = true
	}
}

// TestCorpus puts every message where ECS reports it, stoppedReason and a
// container's reason, and parses the event: every message must be recognised
// as a pull failure, with the same result in both places. The class and host
// figures are logged (go test -v -run TestCorpus) and held by the floors above.
func TestCorpus(t *testing.T) {
	corpus := loadCorpus(t)
	var classRight, withHost, hostsFound int
	for i, e := range corpus {
		forms := map[string]map[string]any{
			"stoppedReason": {"stoppedReason": e.Message},
			"containerReason": {"stoppedReason": "Task failed to start", "containers": []any{
				map[string]any{"name": "log-router", "image": "fluent-bit:1"},
				map[string]any{"name": "app", "image": "app:1", "reason": e.Message},
			}},
		}
		var got *Task
		for form, over := range forms {
			task, err := Parse(stoppedEvent(t, over))
			if err != nil {
				t.Errorf("entry %d (%s) in %s: %v\n%s", i+1, e.Source, form, err, e.Message)
				continue
			}
			if got != nil && (task.Class != got.Class || task.FailedHost != got.FailedHost) {
				t.Errorf("entry %d: %s gives %s %q, the other form %s %q", i+1, form, task.Class, task.FailedHost, got.Class, got.FailedHost)
			}
			if form == "containerReason" && task.FailedContainer != "app" {
				t.Errorf("entry %d: FailedContainer = %q, want app", i+1, task.FailedContainer)
			}
			got = task
		}
		if got == nil {
			continue
		}
		if string(got.Class) == e.Class {
			classRight++
		} else {
			t.Logf("class miss %d (%s): got %s, thread says %s\n  %s", i+1, e.Source, got.Class, e.Class, e.Message)
		}
		if e.Host != "" {
			withHost++
			if strings.EqualFold(got.FailedHost, e.Host) {
				hostsFound++
			} else {
				t.Logf("host miss %d (%s): got %q, want %q", i+1, e.Source, got.FailedHost, e.Host)
			}
		} else if got.FailedHost != "" {
			t.Errorf("entry %d: FailedHost %q for a message that names no host the failure reached\n  %s", i+1, got.FailedHost, e.Message)
		}
	}
	t.Logf("corpus: %d messages; class right %d; hosts found %d of %d", len(corpus), classRight, hostsFound, withHost)
	if classRight < corpusMinClassRight {
		t.Errorf("class right for %d messages, fewer than the %d reached before", classRight, corpusMinClassRight)
	}
	if hostsFound < corpusMinHostsFound {
		t.Errorf("hosts found for %d messages, fewer than the %d reached before", hostsFound, corpusMinHostsFound)
	}
}
