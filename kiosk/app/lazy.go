package app

import (
	"context"
	"errors"

	"onedoor/sync/api"
	"onedoor/sync/client"
	"onedoor/sync/outbox"
)

// Late holds parts that are still being opened while the window already
// shows Home: opening the outbox and the platform client (and, in demo
// mode, starting the simulators and the platform) takes a few hundred
// milliseconds that the first frame need not wait for. The devices need no
// waiting: kiosk/devices' fronts exist from the start and reach whatever
// device is open when they are called. Every
// call through its wrappers runs on a background goroutine (effects, the
// card watch), so waiting there never blocks the UI.
type Late struct {
	ready chan struct{}
	err   error
	deps  Deps
}

// NewLate returns parts that are not ready yet.
func NewLate() *Late { return &Late{ready: make(chan struct{})} }

// Resolve supplies the parts (Store, Tracker, Online of d) or the error
// that prevented opening them. Call it once.
func (l *Late) Resolve(d Deps, err error) {
	l.deps, l.err = d, err
	close(l.ready)
}

// Ready reports whether Resolve has been called.
func (l *Late) Ready() bool {
	select {
	case <-l.ready:
		return true
	default:
		return false
	}
}

func (l *Late) wait(ctx context.Context) error {
	select {
	case <-l.ready:
		return l.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Fill puts the waiting wrappers into d.
func (l *Late) Fill(d *Deps) {
	d.Store = lateStore{l}
	d.Tracker = lateTracker{l}
	d.ECerts = lateECerts{l}
	d.Online = func() bool { return l.Ready() && l.err == nil && (l.deps.Online == nil || l.deps.Online()) }
}

type lateStore struct{ l *Late }

func (s lateStore) Submit(ctx context.Context, sub outbox.NewSubmission) (outbox.Receipt, error) {
	if err := s.l.wait(ctx); err != nil {
		return outbox.Receipt{}, err
	}
	return s.l.deps.Store.Submit(ctx, sub)
}

func (s lateStore) Lookup(ctx context.Context, receipt string) (outbox.Record, error) {
	if err := s.l.wait(ctx); err != nil {
		return outbox.Record{}, err
	}
	return s.l.deps.Store.Lookup(ctx, receipt)
}

func (s lateStore) LookupByID(ctx context.Context, id string) ([]outbox.Record, error) {
	if err := s.l.wait(ctx); err != nil {
		return nil, err
	}
	return s.l.deps.Store.LookupByID(ctx, id)
}

func (s lateStore) SaveRating(ctx context.Context, r api.Rating) error {
	if err := s.l.wait(ctx); err != nil {
		return err
	}
	return s.l.deps.Store.SaveRating(ctx, r)
}

type lateTracker struct{ l *Late }

func (t lateTracker) TrackProven(ctx context.Context, receipt string, p client.TrackProof) (*api.TrackResponse, error) {
	if err := t.l.wait(ctx); err != nil {
		return nil, err
	}
	if t.l.deps.Tracker == nil {
		return nil, errors.New("app: no platform configured")
	}
	return t.l.deps.Tracker.TrackProven(ctx, receipt, p)
}
