package notify

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

// counting is a channel that counts its sends and answers err.
type counting struct {
	err   error
	calls atomic.Int32
}

func (c *counting) Notify(context.Context, *Notice) error { c.calls.Add(1); return c.err }

func TestChannelsEachTriesEveryChannel(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name    string
		errs    []error // one per channel: sns, slack
		wantErr string
	}{
		{"both take it", []error{nil, nil}, ""},
		{"SNS fails, Slack still sends", []error{boom, nil}, "sns: boom"},
		{"both fail, both named", []error{boom, boom}, "sns: boom\nslack: boom"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sns, slack := &counting{err: c.errs[0]}, &counting{err: c.errs[1]}
			cs := Channels{{Name: ChannelSNS, Notifier: sns}, {Name: ChannelSlack, Notifier: slack}}
			err := cs.Each(context.Background(), func(ctx context.Context, ch Channel) error { return ch.Notify(ctx, &Notice{}) })
			var got string
			if err != nil {
				got = err.Error()
			}
			if got != c.wantErr || (err != nil && !errors.Is(err, boom)) {
				t.Errorf("Each = %q; want %q", got, c.wantErr)
			}
			if sns.calls.Load() != 1 || slack.calls.Load() != 1 {
				t.Errorf("sends: SNS %d, Slack %d; want one each", sns.calls.Load(), slack.calls.Load())
			}
		})
	}
}
