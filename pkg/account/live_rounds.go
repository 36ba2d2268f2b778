package account

import (
	"context"
	"sync"

	"golang.org/x/sync/errgroup"
)

// maxInFlight bounds concurrent calls: AWS throttles bursts per account and API.
const maxInFlight = 8

// A read is one API call or one paginated listing. A read that gates others
// returns the reads its answer makes possible.
type read struct {
	gates bool
	run   func(ctx context.Context) []read
}

func gate(fn func(context.Context) []read) read { return read{gates: true, run: fn} }

func leaf(fn func(context.Context)) read {
	return read{run: func(ctx context.Context) []read { fn(ctx); return nil }}
}

// runRounds runs reads in sequential rounds of at most maxInFlight calls. Gating
// reads go first; leaves fill the spare slots of each round, so a fan-out wider
// than the limit rides along with the dependency chain instead of adding rounds.
// It returns an error only when ctx ends.
func runRounds(ctx context.Context, reads []read) error {
	var gating, leaves []read
	sortIn := func(rs []read) {
		for _, r := range rs {
			if r.gates {
				gating = append(gating, r)
			} else {
				leaves = append(leaves, r)
			}
		}
	}
	sortIn(reads)
	for len(gating)+len(leaves) > 0 {
		n := len(leaves)
		if len(gating) > 0 {
			n = min(n, max(0, maxInFlight-len(gating)))
		}
		batch := append(gating, leaves[:n]...)
		gating, leaves = nil, leaves[n:]

		var mu sync.Mutex
		var next []read
		var g errgroup.Group
		g.SetLimit(maxInFlight)
		for _, r := range batch {
			g.Go(func() error {
				more := r.run(ctx)
				mu.Lock()
				defer mu.Unlock()
				next = append(next, more...)
				return nil
			})
		}
		_ = g.Wait() // reads record their own failures
		if err := ctx.Err(); err != nil {
			return err
		}
		sortIn(next)
	}
	return nil
}
