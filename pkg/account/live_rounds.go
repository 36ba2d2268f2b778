package account

import (
	"context"
	"sync"

	"golang.org/x/sync/errgroup"
)

// maxInFlight bounds concurrent calls. EC2 throttles each API on its own
// token bucket per account and region (100 calls, refilled at 20 a second,
// for most Describe calls: https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html),
// and a round calls one API at most twice, so the bound is not there to spare
// a bucket but to keep a storm of diagnoses, each this wide, from opening
// connections without end. 10 lets the 25 calls of a typical diagnosis fit
// in its 3 rounds (8 would leave a fourth for the last call).
const maxInFlight = 10

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
