package engine

import (
	"context"
	"errors"
	"fmt"
	"io"

	"onedoor/sync/api"
	"onedoor/sync/client"
	"onedoor/sync/outbox"
)

// batchable reports whether p may travel in a batch: every page small
// enough to go whole (a large one keeps the resumable upload), all of them
// within one batch's room, and queued under this kiosk (hold deals with the
// others one by one).
func (e *Engine) batchable(p *outbox.Pending) bool {
	if k := p.Request.KioskID; k != "" && k != e.cfg.KioskID {
		return false
	}
	var n int64
	for _, b := range p.Blobs {
		if b.Size > e.cfg.BatchBlobMax {
			return false
		}
		n += b.Size
	}
	return n <= e.cfg.BatchBytes
}

// batchLimit is the page bytes the next batch may carry, 0 when batches
// are off.
func (e *Engine) batchLimit() int64 {
	if e.cfg.Batch <= 1 {
		return 0
	}
	e.linkMu.Lock()
	defer e.linkMu.Unlock()
	if e.cfg.Clock().Before(e.noBatchUntil) {
		return 0
	}
	return e.batchRoom
}

// batchArrived adjusts the room of the next batches after one of size
// bytes got an answer (ok) or was lost on the way.
func (e *Engine) batchArrived(size int64, ok bool) {
	e.linkMu.Lock()
	defer e.linkMu.Unlock()
	if ok {
		e.batchRoom = min(max(2*e.batchRoom, 2*size), e.cfg.BatchBytes)
	} else {
		e.batchRoom = max(min(e.batchRoom, size/2), 1)
	}
}

// fits reports whether p may go in a batch with room bytes of pages.
func (e *Engine) fits(p *outbox.Pending, room int64) bool {
	return room > 0 && e.batchable(p) && blobBytes(p) <= room
}

// nextGroup takes what one sender sends next from the front of claimed: a
// run of batchable submissions, oldest first, within Batch and BatchBytes,
// or else the first submission alone.
func (e *Engine) nextGroup(claimed []*outbox.Pending) (group, rest []*outbox.Pending) {
	room := e.batchLimit()
	if !e.fits(claimed[0], room) {
		return claimed[:1], claimed[1:]
	}
	var bytes int64
	n := 0
	for n < len(claimed) && n < e.cfg.Batch && e.fits(claimed[n], room-bytes) {
		bytes += blobBytes(claimed[n])
		n++
	}
	return claimed[:n:n], claimed[n:]
}

// outgoing is a group from nextGroup made ready to send: for a batch,
// its pages read from the outbox.
type outgoing struct {
	group     []*outbox.Pending
	delivered []bool
	batch     bool
	items     []client.BatchItem
	idx       []int // items[k] is group[idx[k]]
	err       error // a failure to record an outcome while preparing
}

// unsent lists what o would have sent: the claims to give back when the
// pass stops before it goes.
func (o *outgoing) unsent() []*outbox.Pending {
	if !o.batch {
		return o.group
	}
	out := make([]*outbox.Pending, len(o.idx))
	for k, i := range o.idx {
		out[k] = o.group[i]
	}
	return out
}

// prepare readies a group: a single submission is sent as it is (send
// reads its pages as it uploads them); a batch has its pages read whole.
// A submission whose pages cannot be read is settled at once like any
// item failure, and the rest go on.
func (e *Engine) prepare(ctx context.Context, group []*outbox.Pending, marks *sentLog) *outgoing {
	o := &outgoing{group: group, delivered: make([]bool, len(group))}
	if len(group) == 1 && !e.fits(group[0], e.batchLimit()) {
		return o
	}
	o.batch = true
	for i, p := range group {
		blobs, rerr := e.readBlobs(ctx, p)
		if rerr != nil {
			if o.delivered[i], o.err = e.settle(ctx, p, nil, rerr, marks); o.err != nil {
				// The pass stops here (shut down while reading, or the
				// outbox failing): the group is not sent, so what it
				// claimed and did not settle is given back now, or it
				// would sit claimed until the lease ends.
				e.release(ctx, append(o.unsent(), group[i+1:]...))
				o.items, o.idx = nil, nil
				return o
			}
			continue
		}
		o.items = append(o.items, client.BatchItem{Request: &p.Request, Blobs: blobs})
		o.idx = append(o.idx, i)
	}
	return o
}

// sendOut delivers a prepared group and records each outcome.
// delivered[i] and the error are as send's for group[i].
func (e *Engine) sendOut(ctx context.Context, o *outgoing, marks *sentLog) (delivered []bool, err error) {
	group, delivered, items, idx := o.group, o.delivered, o.items, o.idx
	if o.err != nil {
		return delivered, o.err
	}
	if !o.batch {
		delivered[0], err = e.send(ctx, group[0], marks)
		if delivered[0] && e.batchable(group[0]) {
			// It got through alone: batches may grow again.
			e.batchArrived(blobBytes(group[0]), true)
		}
		return delivered, err
	}
	if len(items) == 0 {
		return delivered, nil
	}
	e.update(func(pr *Progress) {
		pr.State = StateSending
		pr.Current = group[idx[0]].Receipt
		pr.CurrentSent = 0
	})
	outs, berr := e.cfg.Platform.SubmitBatch(ctx, items)
	var size int64
	for _, i := range idx {
		size += blobBytes(group[i])
	}
	if ctx.Err() == nil {
		e.batchArrived(size, berr == nil || !isLinkFailure(berr))
	}
	if berr != nil && (errors.Is(berr, client.ErrBatchUnsupported) || ctx.Err() == nil && !isLinkFailure(berr)) {
		// The platform does not take batches (an older one), or refused
		// this one as a whole (413, 400): nothing was stored, and the
		// one-by-one path stays correct. Only the first case turns
		// batching off for a while.
		if errors.Is(berr, client.ErrBatchUnsupported) {
			e.linkMu.Lock()
			e.noBatchUntil = e.cfg.Clock().Add(e.cfg.BatchRetry)
			e.linkMu.Unlock()
			e.log.Info("sync: platform takes no batches; sending one by one", "for", e.cfg.BatchRetry)
		} else {
			e.log.Warn("sync: batch refused as a whole; sending its submissions one by one", "err", reasonOf(berr))
		}
		for _, i := range idx {
			if delivered[i], err = e.send(ctx, group[i], marks); err != nil {
				return delivered, err
			}
		}
		return delivered, nil
	}
	// berr is now the link or the platform failing as a whole (or
	// shutdown): every item is settled with it, due again at once.
	var stop error
	for k, i := range idx {
		p := group[i]
		resp, ierr := (*api.SubmissionResponse)(nil), berr
		if berr == nil {
			resp, ierr = outs[k].Response, outs[k].Err
		}
		if errors.Is(ierr, client.ErrMissingBlobs) {
			if stop != nil {
				ierr = stop
			} else {
				// A page the platform refused on arrival goes by the
				// resumable upload, then the submission alone.
				resp, ierr = e.fillMissing(ctx, p, resp, ierr)
			}
		}
		d, serr := e.settle(ctx, p, resp, ierr, marks)
		delivered[i] = d
		if stop == nil {
			stop = serr
		}
	}
	return delivered, stop
}

// readBlobs reads p's pages whole from the outbox for a batch.
func (e *Engine) readBlobs(ctx context.Context, p *outbox.Pending) ([]api.BatchBlob, error) {
	out := make([]api.BatchBlob, 0, len(p.Blobs))
	for _, b := range p.Blobs {
		r, err := e.cfg.Store.OpenBlob(ctx, b.SHA256)
		if err != nil {
			return nil, fmt.Errorf("local blob %.12s: %w", b.SHA256, err)
		}
		if r.Size() != b.Size {
			r.Close()
			return nil, fmt.Errorf("local blob %.12s holds %d bytes, submission says %d", b.SHA256, r.Size(), b.Size)
		}
		data := make([]byte, b.Size)
		_, err = io.ReadFull(io.NewSectionReader(r, 0, b.Size), data)
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("local blob %.12s: %w", b.SHA256, err)
		}
		out = append(out, api.BatchBlob{SHA256: b.SHA256, Data: data})
	}
	return out, nil
}
