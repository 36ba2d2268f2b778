package notify

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Channel names. A channel's name keys its delivery records in the state
// table, so renaming one makes the retry of an event send its notice again.
const (
	ChannelSNS   = "sns"
	ChannelSlack = "slack"
)

// Channel is one named way a notice goes out.
type Channel struct {
	Name string
	Notifier
}

// Channels are the channels every notice goes out on. Each is sent to on its
// own, so that one failing neither holds back nor repeats the others.
type Channels []Channel

// Each calls send for every channel at once and waits for them all. The
// error joins theirs, each under its channel's name.
func (cs Channels) Each(ctx context.Context, send func(context.Context, Channel) error) error {
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() {
			if err := send(ctx, c); err != nil {
				errs[i] = fmt.Errorf("%s: %w", c.Name, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
