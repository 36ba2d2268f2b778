package account

import (
	"errors"
	"reflect"
	"testing"
)

// FuzzLoadSnapshot: any input loads or gives a *SnapshotError, and whatever
// loads survives Marshal and Load unchanged. Seeds: testdata/fuzz/FuzzLoadSnapshot.
func FuzzLoadSnapshot(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := LoadSnapshot("fuzz.json", data)
		if err != nil {
			if se, ok := errors.AsType[*SnapshotError](err); !ok || se.File != "fuzz.json" || s != nil {
				t.Fatalf("err = %#v, snapshot %v", err, s)
			}
			return
		}
		out, err := s.Marshal()
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		back, err := LoadSnapshot("marshalled.json", out)
		if err != nil {
			t.Fatalf("reload: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(back, s) {
			t.Fatalf("round trip changed the snapshot:\n%s", out)
		}
	})
}
