package notify

import (
	"encoding/json"
	"io"
	"maps"
	"slices"
	"sync"
	"time"
)

// Metric names, in the Namespace below. PullFailures has the dimension Cause.
const (
	Namespace       = "pullmedic"
	PullFailures    = "PullFailures"
	Notifications   = "Notifications"
	Deduplicated    = "Deduplicated"
	FixesApplied    = "FixesApplied"
	FixesRefused    = "FixesRefused"
	DiagnosisMillis = "DiagnosisMillis"
	// EventsRefused counts events from accounts a hub does not serve.
	EventsRefused = "EventsRefused"
	// AccountsUnreadable counts diagnoses of accounts whose role could not be
	// assumed or denied reads.
	AccountsUnreadable = "AccountsUnreadable"
)

// Metrics writes CloudWatch Embedded Metric Format lines: Lambda sends stdout
// to CloudWatch Logs, which turns each line into metrics without an API call.
type Metrics struct {
	W io.Writer
	// Now is the clock of the timestamps.
	Now func() time.Time

	mu sync.Mutex
}

// NewMetrics writes EMF lines to w.
func NewMetrics(w io.Writer) *Metrics { return &Metrics{W: w, Now: time.Now} }

// PullFailure counts one failed pull by its cause ("none" when no check fails).
func (m *Metrics) PullFailure(cause string) {
	m.emit(PullFailures, "Count", 1, map[string]string{"Cause": cause})
}

// Count adds n to a counter: Notifications, Deduplicated or FixesApplied.
func (m *Metrics) Count(name string, n int) { m.emit(name, "Count", float64(n), nil) }

// Duration records a duration in milliseconds, such as DiagnosisMillis.
func (m *Metrics) Duration(name string, d time.Duration) {
	m.emit(name, "Milliseconds", float64(d.Milliseconds()), nil)
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMeta struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

func (m *Metrics) emit(name, unit string, value float64, dims map[string]string) {
	line := map[string]any{name: value}
	for k, v := range dims {
		line[k] = v
	}
	keys := append([]string{}, slices.Sorted(maps.Keys(dims))...)
	line["_aws"] = emfMeta{
		Timestamp: m.Now().UnixMilli(),
		CloudWatchMetrics: []emfDirective{{
			Namespace: Namespace, Dimensions: [][]string{keys}, Metrics: []emfMetric{{Name: name, Unit: unit}},
		}},
	}
	// Maps of strings and numbers always encode.
	b, _ := json.Marshal(line)
	m.mu.Lock()
	defer m.mu.Unlock()
	// A metric lost to a broken stdout must not fail the notice it counts.
	_, _ = m.W.Write(append(b, '\n'))
}
