package idcard

import (
	"context"
	"errors"
	"time"

	"onedoor/drivers/serialport"
)

// EventKind says what happened on the reader.
type EventKind int

const (
	// CardPlaced: a new card answered find; a read follows.
	CardPlaced EventKind = iota + 1
	// IdentityRead: the card was read. Identity is set; Err is nil or wraps
	// ErrExpired (the card is otherwise valid).
	IdentityRead
	// ReadFailed: a card was found but could not be read or failed
	// validation (Err says why). Watch then waits for the card to leave:
	// the resident is asked to present it again.
	ReadFailed
	// CardRemoved: the card that was found has left the reader.
	CardRemoved
	// DeviceError: the reader stopped answering or reports a fault (Err).
	// Sent once per outage; Watch keeps trying.
	DeviceError
	// DeviceReady: the reader answers, at start or after a DeviceError.
	DeviceReady
)

func (k EventKind) String() string {
	switch k {
	case CardPlaced:
		return "card placed"
	case IdentityRead:
		return "identity read"
	case ReadFailed:
		return "read failed"
	case CardRemoved:
		return "card removed"
	case DeviceError:
		return "device error"
	case DeviceReady:
		return "device ready"
	}
	return "unknown"
}

// Event is one thing Watch reports.
type Event struct {
	Kind     EventKind
	Identity *Identity
	Err      error
	At       time.Time
}

// WatchOptions tune Watch. Zero values are the defaults.
type WatchOptions struct {
	// Interval is the pause between the end of one find poll and the
	// start of the next. Zero means 15 ms: a card is found within about
	// 20 ms of being placed, where its read takes 118 ms of wire time at
	// 115200 baud anyway. One poll is 25 bytes (2.2 ms of the line at
	// 115200) and 0.3–0.75 ms of CPU time on the shared 2-core test
	// machine, most of it the Go runtime waking for the timer and the
	// system calls rather than the driver's own work: 2.2–3.7 % of one
	// core, median 2.5 % (the ID-card section of docs/BENCHMARKS.md).
	Interval time.Duration
	// ReadAttempts is how many find-select-read rounds one placement gets
	// before ReadFailed, since a card slid on at an angle often reads on the
	// second try. Zero means 2; 1 disables retries.
	ReadAttempts int
	// ErrorBackoff is the polling interval while the device is in error.
	// Zero means 500 ms.
	ErrorBackoff time.Duration
}

// deviceTrouble says whether err is the reader's fault rather than the
// card's: no answer, unplugged, garbled frames or a SAM fault.
// Anything that is not a SAM status (a dead port, a timeout, a garbled
// frame) is the device's.
func deviceTrouble(err error) bool {
	// errors.AsType, unlike errors.As, allocates nothing: this runs on
	// every poll.
	if _, ok := errors.AsType[*StatusError](err); ok {
		return errors.Is(err, ErrSAMFault) || errors.Is(err, ErrRejected)
	}
	return err != nil
}

// Watch polls the reader until ctx ends and reports on the returned
// channel, which it closes when done. The reader must not be used by
// anyone else meanwhile.
//
// After a read, find keeps answering "no card" while that card stays on the
// reader, so Watch then polls the cheap additional-address read instead:
// it succeeds while the card is there and fails once it has gone.
func (r *Reader) Watch(ctx context.Context, o WatchOptions) <-chan Event {
	if o.Interval <= 0 {
		o.Interval = 15 * time.Millisecond
	}
	if o.ReadAttempts <= 0 {
		o.ReadAttempts = 2
	}
	if o.ErrorBackoff <= 0 {
		o.ErrorBackoff = 500 * time.Millisecond
	}
	ch := make(chan Event, 8)
	go func() {
		defer close(ch)
		r.watch(ctx, o, ch)
	}()
	return ch
}

func (r *Reader) watch(ctx context.Context, o WatchOptions, ch chan<- Event) {
	emit := func(e Event) bool {
		e.At = time.Now()
		select {
		case ch <- e:
			return true
		case <-ctx.Done():
			return false
		}
	}
	const (
		unknown = iota
		healthy
		failing
	)
	health := unknown
	// report records the outcome of one exchange and says whether it was
	// the device's fault.
	report := func(err error) (trouble, ok bool) {
		if deviceTrouble(err) {
			if health != failing {
				health = failing
				r.log.Warn("idcard reader in error", "err", err)
				return true, emit(Event{Kind: DeviceError, Err: err})
			}
			return true, true
		}
		if health != healthy {
			health = healthy
			r.log.Info("idcard reader ready")
			return false, emit(Event{Kind: DeviceReady})
		}
		return false, true
	}

	cardOn := false
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		wait := o.Interval
		if cardOn {
			_, err := r.AdditionalAddress(ctx)
			if ctx.Err() != nil {
				return
			}
			trouble, ok := report(err)
			switch {
			case !ok:
				return
			case trouble:
				cardOn = false // the card has to be found again after an outage
				wait = o.ErrorBackoff
			case err != nil:
				cardOn = false
				r.log.Info("idcard card removed")
				if !emit(Event{Kind: CardRemoved}) {
					return
				}
			}
			timer.Reset(wait)
			continue
		}

		found, err := r.findCard(ctx)
		if ctx.Err() != nil {
			return
		}
		trouble, ok := report(err)
		switch {
		case !ok:
			return
		case trouble:
			timer.Reset(o.ErrorBackoff)
			continue
		case !found: // no card, the idle answer, or a card-side status
			timer.Reset(wait)
			continue
		}
		r.log.Info("idcard card placed")
		if !emit(Event{Kind: CardPlaced}) {
			return
		}
		id, err := r.readPlaced(ctx, o.ReadAttempts)
		if ctx.Err() != nil {
			return
		}
		switch {
		case err == nil || errors.Is(err, ErrExpired):
			r.log.Info("idcard read", "type", id.Type, "expired", err != nil)
			ok = emit(Event{Kind: IdentityRead, Identity: &id, Err: err})
		case errors.Is(err, serialport.ErrDisconnected):
			_, ok = report(err)
			wait = o.ErrorBackoff
		default:
			r.log.Info("idcard read failed", "err", err)
			ok = emit(Event{Kind: ReadFailed, Err: err})
		}
		if !ok {
			return
		}
		cardOn = !errors.Is(err, serialport.ErrDisconnected)
		timer.Reset(wait)
	}
}

// readPlaced reads a card that find has just reported, retrying the whole
// find-select-read round while the card is still there. It returns the
// first error when the card leaves, which is the one that explains why.
func (r *Reader) readPlaced(ctx context.Context, attempts int) (Identity, error) {
	var first error
	for i := range attempts {
		var err error
		if i > 0 {
			if err := r.Find(ctx); err != nil {
				return Identity{}, first
			}
		}
		if err = r.Select(ctx); err == nil {
			var id Identity
			if id, err = r.ReadCard(ctx, false); err == nil {
				if err = id.Validate(r.now()); err == nil || errors.Is(err, ErrExpired) {
					return id, err
				}
				// Bad data is not cured by reading it again.
				return Identity{}, err
			}
		}
		if first == nil {
			first = err
		}
		if errors.Is(err, serialport.ErrDisconnected) || ctx.Err() != nil {
			return Identity{}, err
		}
	}
	return Identity{}, first
}
