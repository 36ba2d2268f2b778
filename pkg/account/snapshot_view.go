package account

import (
	"context"
	"errors"

	"github.com/pullmedic/pullmedic/pkg/event"
)

// SnapshotView serves Facts from a loaded snapshot, offline. A resource missing
// from the snapshot is simply not found by the lookups; that is not an error.
type SnapshotView struct{ Snap *Snapshot }

// Collect returns the task with a deep copy of the snapshot, so remediation may
// change the Facts' snapshot without touching the view's.
func (v SnapshotView) Collect(_ context.Context, t *event.Task) (*Facts, error) {
	if v.Snap == nil {
		return nil, errors.New("snapshot view: no snapshot loaded")
	}
	cp, err := v.Snap.Clone()
	if err != nil {
		return nil, err
	}
	return &Facts{Task: t, Snapshot: *cp}, nil
}
