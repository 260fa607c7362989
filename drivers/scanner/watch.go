package scanner

import (
	"context"
	"time"
)

// Event is a change in the scanner's condition seen by Watch. Err is set
// (and Status zero) when the scanner stopped answering; the next good
// status after that is reported again, so the UI can show "scanner absent"
// and clear it.
type Event struct {
	Status Status
	Err    error
}

// Watch polls the scanner's status every interval and sends an Event
// whenever it changes: a sheet placed in the feeder (so the flow can start
// the scan without a button), a jam, an open cover, or the scanner going
// silent. The channel closes when ctx ends. Polls take turns with Scan on
// the port, so a status poll never interleaves with a transfer.
func (s *Serial) Watch(ctx context.Context, interval time.Duration) <-chan Event {
	out := make(chan Event, 1)
	go func() {
		defer close(out)
		t := time.NewTicker(interval)
		defer t.Stop()
		var last Event
		first := true
		for {
			st, err := s.Status(ctx)
			if ctx.Err() != nil {
				return
			}
			ev := Event{Status: st, Err: err}
			if first || ev.Status != last.Status || (ev.Err == nil) != (last.Err == nil) {
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
				last, first = ev, false
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return out
}
