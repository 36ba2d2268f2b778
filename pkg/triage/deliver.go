package triage

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/pullmedic/pullmedic/pkg/notify"
	"github.com/pullmedic/pullmedic/pkg/state"
)

// deliver sends n, within notifyStep, on every channel at once that has not
// taken it yet, and records each channel that takes it. Without a window
// (the table failed) there are no records: it sends on every channel. It
// reports whether it sent on any channel.
func (h *Handler) deliver(ctx context.Context, log *slog.Logger, n *notify.Notice, w *state.Window) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, notifyStep)
	defer cancel()
	id := ""
	if w != nil {
		id = w.NoticeID(string(n.Kind))
	}
	var sent atomic.Bool
	err := h.Channels.Each(ctx, func(ctx context.Context, c notify.Channel) error {
		log := log.With("channel", c.Name, "notice", id)
		if id != "" {
			done, err := h.table().Delivered(ctx, id, c.Name)
			if err != nil {
				// Sending twice beats not sending.
				log.ErrorContext(ctx, "could not read the delivery record: sending anyway", "error", err)
			}
			if done {
				log.InfoContext(ctx, "already delivered by an earlier try")
				return nil
			}
		}
		sendCtx, cancel := context.WithTimeout(ctx, sendCall)
		defer cancel()
		if err := c.Notify(sendCtx, n); err != nil {
			return err
		}
		sent.Store(true)
		if id == "" {
			return nil
		}
		// The channel took the notice: record it even when the step's time
		// is up, or the retry sends it again.
		if err := h.table().MarkDelivered(context.WithoutCancel(ctx), id, c.Name); err != nil {
			log.ErrorContext(ctx, "could not record the delivery; a retry sends it again", "error", err)
		}
		return nil
	})
	return sent.Load(), err
}
