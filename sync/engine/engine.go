// Package engine is the kiosk's persistent sync loop: it drains the outbox
// to the platform, oldest submission first, blobs before the submission that
// names them, and pulls status changes and catalog updates back.
//
// go-retryablehttp (inside sync/client) only rides out blips of a few
// seconds. Village links are down for hours, so the engine keeps the real
// retry state in the outbox (attempts and next attempt time per submission,
// written with MarkRetry) where it survives restarts, and treats a dead link
// as the engine's state rather than the item's: items are not punished with
// growing backoff for an outage; instead the engine probes the platform with
// a growing, jittered interval and drains the queue as soon as the probe
// answers. A permanent rejection is recorded with its reason (MarkRejected)
// and the queue moves on.
//
// The engine never blocks its caller: Start returns at once, Nudge never
// waits, Progress is a snapshot and Updates a latest-value channel.
package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"onedoor/sync/api"
	"onedoor/sync/client"
	"onedoor/sync/outbox"
)

// Store is what the engine needs from the outbox.
type Store interface {
	Wake() <-chan struct{}
	ClaimDue(ctx context.Context, now time.Time, maxItems int, maxBytes int64) ([]*outbox.Pending, error)
	Release(ctx context.Context, ids []string, now time.Time) error
	NextAttemptAt(ctx context.Context) (time.Time, bool, error)
	OpenBlob(ctx context.Context, sha string) (*outbox.BlobReader, error)
	MarkSentBatch(ctx context.Context, marks []outbox.Sent) error
	MarkRetry(ctx context.Context, id, reason string, next time.Time) error
	MarkRejected(ctx context.Context, id, reason string) error
	ApplyStatuses(ctx context.Context, updates []api.StatusUpdate, cursor string) error
	StatusCursor(ctx context.Context) (string, error)
	DocumentETag(ctx context.Context, doc outbox.Document) (string, error)
	SaveDocument(ctx context.Context, doc outbox.Document, etag string, body []byte) error
	NextRating(ctx context.Context) (*api.Rating, error)
	MarkRatingSent(ctx context.Context, id string, at time.Time) error
	MarkRatingRejected(ctx context.Context, id, reason string) error
	Stats(ctx context.Context) (outbox.Stats, error)
}

// Platform is what the engine needs from sync/client.
type Platform interface {
	UploadBlob(ctx context.Context, sha string, size int64, src io.ReaderAt, progress func(offset int64)) (client.UploadStats, error)
	UploadNewBlob(ctx context.Context, sha string, size int64, src io.ReaderAt, progress func(offset int64)) (client.UploadStats, error)
	Submit(ctx context.Context, s *api.SubmissionRequest) (*api.SubmissionResponse, error)
	SubmitBatch(ctx context.Context, items []client.BatchItem) ([]client.BatchOutcome, error)
	Catalog(ctx context.Context, etag string) ([]byte, string, bool, error)
	Calendar(ctx context.Context, etag string) ([]byte, string, bool, error)
	Statuses(ctx context.Context, cursor string) (*api.StatusesResponse, error)
	Rate(ctx context.Context, r *api.Rating) error
	Heartbeat(ctx context.Context, hb *api.Heartbeat) (*api.HeartbeatResponse, error)
	ClockOffset() time.Duration
}

// Config configures an Engine. Zero durations get the defaults noted.
type Config struct {
	Store    Store
	Platform Platform
	KioskID  string
	Version  string // software version, reported in heartbeats

	Clock func() time.Time                     // default time.Now
	After func(time.Duration) <-chan time.Time // default time.After; tests may speed time up

	// Per-submission backoff after a failure that concerns the item
	// itself: RetryBase·2^(attempts-1) with jitter, at most RetryMax.
	RetryBase time.Duration // default 10 s
	RetryMax  time.Duration // default 30 min
	// Link probing while offline: ProbeMin doubling up to ProbeMax, with
	// jitter. A probe is one small signed request; when the link is down
	// it never leaves the kiosk, so probing often costs nothing, and it is
	// how fast the queue moves again once the link returns (a village link
	// is up a few hours a day: minutes of backoff waste them).
	ProbeMin time.Duration // default 1 s
	ProbeMax time.Duration // default 3 s
	// PollInterval is how often statuses and the catalog are pulled while
	// online and idle; the loop also wakes this often without work.
	PollInterval      time.Duration // default 1 min
	HeartbeatInterval time.Duration // default 5 min
	// Parallel is how many submissions may be in flight at once (started
	// oldest first; they may finish out of order). Default 4: a backlog
	// drained after an outage is bound by round trips and disk flushes on
	// both sides, which parallel senders overlap (and which the platform
	// and the outbox then group into shared commits); on a thin link the
	// uploads share the bandwidth either way, and each stays resumable.
	// 1 sends strictly one at a time.
	Parallel int
	// ClaimBatch and ClaimBytes bound how many submissions (and blob
	// bytes) one claim takes from the outbox: one commit per batch rather
	// than per submission. Defaults 16 and 1 MiB; ClaimBatch 1 claims one
	// at a time.
	ClaimBatch int
	ClaimBytes int64
	// Batch is how many small submissions one request may carry with
	// their pages (POST /api/v1/batch): one signed exchange, one blob
	// flush and one intake commit on the platform for all of them instead
	// of two exchanges per submission. Default 16; 1 sends each
	// submission by itself (blobs by PATCH, then the POST). A submission
	// goes in a batch when every page is at most BatchBlobMax (default
	// 512 KiB) and its pages at most BatchBytes (default 1 MiB, also the
	// cap of a batch's pages); larger ones keep the resumable upload,
	// which loses nothing when a thin link drops. A platform that does not
	// know the endpoint gets single requests for BatchRetry (default 1 h).
	Batch        int
	BatchBlobMax int64
	BatchBytes   int64
	BatchRetry   time.Duration
	// ProbeTimeout bounds one probe of the platform while offline
	// (default 5 s), so a dead link whose packets vanish, rather than
	// being refused, cannot hold the probe for the client's whole retry
	// budget.
	ProbeTimeout time.Duration
	// Devices reports device states for the heartbeat; may be nil.
	Devices func() map[string]string
	// PaperNearEnd reports the printer's paper state; may be nil.
	PaperNearEnd func() bool
	Logger       *slog.Logger
	Rand         func() float64 // jitter source; default math/rand/v2
}

// State is what the engine is doing, for the UI and the technician.
type State string

const (
	StateIdle      State = "idle"    // nothing due
	StateSending   State = "sending" // moving a submission
	StateOffline   State = "offline" // platform unreachable; probing
	StateAuthError State = "auth"    // platform refuses this kiosk (token, clock)
	StateStopped   State = "stopped" // Run has returned
)

// Progress is a snapshot for the UI.
type Progress struct {
	State                   State
	ItemsLeft               int    // undelivered submissions (pending + sending)
	BytesLeft               int64  // blob bytes still to upload, at most
	Current                 string // receipt being sent, if any
	CurrentSent             int64  // bytes of the current blob the platform holds
	LastSync                time.Time
	LastError               string // last failure, without personal data
	NextProbe               time.Time
	Sent, Rejected, Retried int // counts since start
	// Held counts holds since start of submissions queued under another
	// kiosk ID (kiosk.id was changed with them in the queue): the platform
	// takes a submission only from the kiosk that made it, so sending one
	// would get it refused for good. They stay queued; LastError says why.
	Held int
}

// Engine drains an outbox to the platform.
type Engine struct {
	cfg   Config
	log   *slog.Logger
	nudge chan struct{}

	mu       sync.Mutex
	progress Progress
	updates  chan Progress

	// Link state, shared by parallel senders.
	linkMu     sync.Mutex
	offline    bool
	probeFails int
	// noBatchUntil: the platform answered that it takes no batches;
	// submissions go one by one until then.
	noBatchUntil time.Time
	// batchRoom is how many page bytes the next batch may carry: halved
	// when a batch is lost on the way (a link that drops every few
	// hundred KiB can never carry a large all-or-nothing request),
	// doubled back up to BatchBytes by each batch that gets through.
	// Below a submission's own pages it goes alone, by the resumable
	// upload.
	batchRoom int64

	// Loop-owned state (only the Run goroutine touches these).
	lastPoll      time.Time
	lastHeartbeat time.Time
}

// New checks cfg and builds an engine; it does no I/O.
func New(cfg Config) (*Engine, error) {
	if cfg.Store == nil || cfg.Platform == nil {
		return nil, errors.New("engine: Store and Platform are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.After == nil {
		cfg.After = time.After
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.RetryBase, 10*time.Second)
	def(&cfg.RetryMax, 30*time.Minute)
	def(&cfg.ProbeMin, time.Second)
	def(&cfg.ProbeMax, 3*time.Second)
	def(&cfg.ProbeTimeout, 5*time.Second)
	def(&cfg.BatchRetry, time.Hour)
	if cfg.Batch <= 0 {
		cfg.Batch = 16
	}
	if cfg.BatchBlobMax <= 0 {
		cfg.BatchBlobMax = 512 << 10
	}
	if cfg.BatchBytes <= 0 {
		cfg.BatchBytes = 1 << 20
	}
	// A batch body must stay under the platform's limit with room for the
	// submissions' JSON.
	cfg.BatchBytes = min(cfg.BatchBytes, api.MaxBatchBytes/2)
	cfg.BatchBlobMax = min(cfg.BatchBlobMax, cfg.BatchBytes, api.MaxBatchBlob)
	def(&cfg.PollInterval, time.Minute)
	def(&cfg.HeartbeatInterval, 5*time.Minute)
	if cfg.Parallel <= 0 {
		cfg.Parallel = 4
	}
	if cfg.ClaimBatch <= 0 {
		cfg.ClaimBatch = 16
	}
	if cfg.ClaimBytes <= 0 {
		cfg.ClaimBytes = 1 << 20
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Engine{
		cfg: cfg, log: log, batchRoom: cfg.BatchBytes,
		nudge:    make(chan struct{}, 1),
		updates:  make(chan Progress, 1),
		progress: Progress{State: StateIdle},
	}, nil
}

// Nudge asks the loop to look at the queue and the link now (the network
// came back, a technician pressed "sync now"). It never blocks.
func (e *Engine) Nudge() {
	select {
	case e.nudge <- struct{}{}:
	default:
	}
}

// Progress returns the latest snapshot.
func (e *Engine) Progress() Progress {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.progress
}

// Updates delivers snapshots as they change. It holds only the newest one:
// a slow reader skips intermediate states but never stalls the engine.
func (e *Engine) Updates() <-chan Progress { return e.updates }

func (e *Engine) update(f func(*Progress)) {
	// Both channel operations are non-blocking, so holding the lock is
	// cheap, and it keeps parallel senders from leaving an older snapshot
	// in the channel than the newest one.
	e.mu.Lock()
	defer e.mu.Unlock()
	f(&e.progress)
	select {
	case <-e.updates: // drop the stale one
	default:
	}
	select {
	case e.updates <- e.progress:
	default:
	}
}

// Start runs the loop in a goroutine until ctx ends and returns a channel
// closed when it has stopped.
func (e *Engine) Start(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.Run(ctx)
	}()
	return done
}

// Run is the loop; it returns when ctx ends. In-flight uploads are
// abandoned where they are: the platform keeps what arrived and the next
// run resumes from its offset.
func (e *Engine) Run(ctx context.Context) {
	defer e.update(func(p *Progress) { p.State = StateStopped; p.Current = "" })
	e.refreshCounts(ctx)
	for {
		if ctx.Err() != nil {
			return
		}
		err := e.cycle(ctx, false)
		wait := e.nextWake(ctx)
		if err != nil && wait < e.cfg.ProbeMin {
			// Do not spin on a local failure (a locked or full disk).
			wait = e.cfg.ProbeMin
		}
		select {
		case <-ctx.Done():
			return
		case <-e.cfg.Store.Wake():
		case <-e.nudge:
			// A nudge means "try now": offline, the next cycle probes at
			// once, and a probe that gets through reports the state idle
			// again. (Marking the link up here skipped that probe, and
			// with nothing to send the state stayed offline for good.)
		case <-e.cfg.After(wait):
		}
	}
}

// DrainResult summarises one Drain.
type DrainResult struct {
	Sent, Rejected, Retried int
	Left                    int   // undelivered submissions after the drain
	Err                     error // why the drain stopped early (link down, auth), if it did
}

// Drain sends everything due now, pulls statuses and the catalog, and
// returns: `onedoor sync now`. It ignores the offline state (it tries at
// once). Do not call it while Run is active on the same Engine.
func (e *Engine) Drain(ctx context.Context) DrainResult {
	before := e.Progress()
	err := e.cycle(ctx, true)
	after := e.Progress()
	res := DrainResult{Sent: after.Sent - before.Sent, Rejected: after.Rejected - before.Rejected, Retried: after.Retried - before.Retried, Err: err}
	if st, serr := e.cfg.Store.Stats(ctx); serr == nil {
		res.Left = st.Queued
	}
	return res
}

// cycle does one round of work: probe if offline, drain due submissions,
// ratings, pulls, heartbeat. It returns the error that stopped it early.
func (e *Engine) cycle(ctx context.Context, force bool) error {
	now := e.cfg.Clock()
	if e.isOffline() && !force {
		// Any answer from the platform, even an error, shows the link is
		// back; only a link failure keeps us offline.
		if err := e.probe(ctx); err != nil && (isLinkFailure(err) || ctx.Err() != nil) {
			if ctx.Err() == nil {
				e.linkFailed(err)
			}
			return err
		}
		e.log.Info("sync: platform reachable again")
		e.setOnline()
		e.update(func(p *Progress) { p.State = StateIdle })
	}
	// Each step after the first stops the cycle only on a link failure
	// (or shutdown); a problem in one (a rating the platform will not
	// take, a catalog it does not serve) must not starve the others.
	var first error
	note := func(err error) bool {
		if err == nil {
			return false
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil || isLinkFailure(err) {
			return true
		}
		e.log.Warn("sync: step failed", "err", reasonOf(err))
		e.update(func(p *Progress) { p.LastError = reasonOf(err) })
		return false
	}
	if note(e.drainSubmissions(ctx)) {
		return first
	}
	if note(e.drainRatings(ctx)) {
		return first
	}
	if force || now.Sub(e.lastPoll) >= e.cfg.PollInterval {
		err := e.pull(ctx)
		if note(err) {
			return first
		}
		if err == nil {
			e.lastPoll = now
		}
	}
	if force || now.Sub(e.lastHeartbeat) >= e.cfg.HeartbeatInterval {
		err := e.heartbeat(ctx)
		if err != nil && isLinkFailure(err) && ctx.Err() == nil {
			e.linkFailed(err)
		}
		note(err)
	}
	return first
}

// nextWake is how long the loop may sleep: until the next probe when
// offline, else until the earliest due submission or the next poll.
func (e *Engine) nextWake(ctx context.Context) time.Duration {
	now := e.cfg.Clock()
	e.linkMu.Lock()
	offline, fails := e.offline, e.probeFails
	e.linkMu.Unlock()
	if offline {
		d := client.Jitter(client.Exponential(e.cfg.ProbeMin, e.cfg.ProbeMax, fails-1), e.cfg.Rand)
		e.update(func(p *Progress) { p.NextProbe = now.Add(d) })
		return d
	}
	wait := e.cfg.PollInterval - now.Sub(e.lastPoll)
	if hb := e.cfg.HeartbeatInterval - now.Sub(e.lastHeartbeat); hb < wait {
		wait = hb
	}
	if at, ok, err := e.cfg.Store.NextAttemptAt(ctx); err == nil && ok {
		if d := at.Sub(now); d < wait {
			wait = d
		}
	}
	if wait < 10*time.Millisecond {
		wait = 10 * time.Millisecond
	}
	return wait
}

func (e *Engine) isOffline() bool {
	e.linkMu.Lock()
	defer e.linkMu.Unlock()
	return e.offline
}

func (e *Engine) setOnline() {
	e.linkMu.Lock()
	e.offline = false
	e.linkMu.Unlock()
}

func (e *Engine) linkFailed(err error) {
	e.linkMu.Lock()
	was := e.offline
	e.offline = true
	e.probeFails++
	e.linkMu.Unlock()
	if !was {
		e.log.Warn("sync: platform unreachable; probing", "err", err)
	}
	state := StateOffline
	if errors.Is(err, client.ErrUnauthorized) {
		state = StateAuthError
	}
	e.update(func(p *Progress) { p.State = state; p.Current = ""; p.LastError = err.Error() })
}

func (e *Engine) linkOK() {
	e.linkMu.Lock()
	e.probeFails = 0
	e.offline = false
	e.linkMu.Unlock()
}

func (e *Engine) refreshCounts(ctx context.Context) {
	st, err := e.cfg.Store.Stats(ctx)
	if err != nil {
		return
	}
	e.update(func(p *Progress) { p.ItemsLeft, p.BytesLeft = st.Queued, st.BytesLeft })
}

// errLink marks failures that concern the link or the platform as a whole;
// the pass stops and the engine goes offline.
func isLinkFailure(err error) bool {
	return errors.Is(err, client.ErrUnavailable) || errors.Is(err, client.ErrBadResponse) ||
		errors.Is(err, client.ErrUnauthorized) || errors.Is(err, client.ErrStalled)
}

func (e *Engine) drainSubmissions(ctx context.Context) error {
	workers := e.cfg.Parallel
	if workers < 1 {
		workers = 1
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		stopErr error
		claimed []*outbox.Pending // claimed in a batch, not yet started
		// taken are the submissions senders hold, and those delivered in
		// this pass. One that outlives the outbox's claim lease (a large
		// scan on a thin link shared by several senders, or a delivered
		// one whose acknowledgement is still waiting in marks) is due
		// again and a later claim hands it out anew; it must not be sent
		// twice.
		taken = map[string]bool{}
	)
	stopped := func() error {
		mu.Lock()
		defer mu.Unlock()
		return stopErr
	}
	marks := newSentLog(e.cfg.Store, e.log)
	sem := make(chan struct{}, workers)
	var err error
	for ctx.Err() == nil && stopped() == nil {
		// The next group is claimed and read from the outbox while the
		// senders are busy, before waiting for one to come free: then
		// even a single sender finds its next request ready when the
		// platform answers, instead of leaving the link idle while the
		// kiosk's disk serves the claim and the pages. Groups still go
		// out oldest first.
		if len(claimed) == 0 {
			claimed, err = e.cfg.Store.ClaimDue(ctx, e.cfg.Clock(), e.cfg.ClaimBatch, e.cfg.ClaimBytes)
			if err != nil || len(claimed) == 0 {
				if err != nil && ctx.Err() == nil {
					e.log.Error("sync: outbox claim failed", "err", err)
					e.update(func(pr *Progress) { pr.LastError = err.Error() })
				}
				break
			}
		}
		var group []*outbox.Pending
		group, claimed = e.nextGroup(claimed)
		mu.Lock()
		fresh := group[:0]
		for _, p := range group {
			// One another sender holds records its outcome (and so
			// ends this new claim).
			if !taken[p.UUID] {
				taken[p.UUID] = true
				fresh = append(fresh, p)
			}
		}
		mu.Unlock()
		if len(fresh) == 0 {
			continue
		}
		out := e.prepare(ctx, fresh, marks)
		sem <- struct{}{} // a free sender
		if stopped() != nil || ctx.Err() != nil {
			<-sem
			claimed = append(out.unsent(), claimed...) // given back below
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			delivered, serr := e.sendOut(ctx, out, marks)
			mu.Lock()
			for i, p := range fresh {
				if !delivered[i] {
					delete(taken, p.UUID) // it may come due again in this pass
				}
			}
			if serr != nil && stopErr == nil {
				stopErr = serr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	// Whatever the pass ends with, the records it owes are written before
	// it returns: acknowledgements (Drain's caller counts on them), and
	// the claims it took but never started.
	merr := marks.wait()
	e.release(ctx, claimed)
	if serr := stopped(); serr != nil {
		return serr
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return err
	}
	if merr != nil {
		return merr
	}
	e.refreshCounts(ctx)
	e.update(func(pr *Progress) {
		if pr.State == StateSending {
			pr.State = StateIdle
		}
		pr.Current = ""
	})
	return nil
}

// send moves one submission and records the outcome. delivered says the
// submission is settled (accepted, or rejected for good) and must not be
// sent again in this pass; err is set only when the pass should stop (link
// down, shutting down).
func (e *Engine) send(ctx context.Context, p *outbox.Pending, marks *sentLog) (delivered bool, err error) {
	if k := p.Request.KioskID; k != "" && k != e.cfg.KioskID {
		return false, e.hold(ctx, p)
	}
	e.update(func(pr *Progress) { pr.State = StateSending; pr.Current = p.Receipt; pr.CurrentSent = 0 })
	resp, err := e.deliver(ctx, p)
	return e.settle(ctx, p, resp, err, marks)
}

// settle records the outcome of one submission's delivery: resp on

// release gives back claims a pass took but never started, even when ctx
// is cancelled (a shutdown), so they are due again at once rather than at
// the end of the claim lease.
func (e *Engine) release(ctx context.Context, ps []*outbox.Pending) {
	if len(ps) == 0 {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.UUID
	}
	if err := e.cfg.Store.Release(rctx, ids, e.cfg.Clock()); err != nil {
		// They come back by themselves when the claim lease ends.
		e.log.Error("sync: releasing unstarted claims failed", "count", len(ids), "err", err)
	}
}

// success, else err. It returns as send does.
func (e *Engine) settle(ctx context.Context, p *outbox.Pending, resp *api.SubmissionResponse, err error, marks *sentLog) (delivered bool, stop error) {
	// Record the outcome even when ctx was cancelled mid-way, so a clean
	// shutdown leaves the item due again rather than leased.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	now := e.cfg.Clock()
	switch {
	case err == nil:
		// Recorded in the background, together with the acknowledgements
		// of other senders, while this sender moves on; see sentLog.
		marks.add(outbox.Sent{UUID: p.UUID, CaseNumber: resp.CaseNumber, At: now})
		e.linkOK()
		e.update(func(pr *Progress) {
			pr.Sent++
			pr.LastSync = now
			if pr.ItemsLeft > 0 {
				pr.ItemsLeft--
			}
			pr.BytesLeft -= blobBytes(p)
			if pr.BytesLeft < 0 {
				pr.BytesLeft = 0
			}
		})
		e.log.Info("sync: submission delivered", "receipt", p.Receipt, "case", resp.CaseNumber, "attempts", p.Attempts)
		return true, nil
	case ctx.Err() != nil:
		e.cfg.Store.MarkRetry(rctx, p.UUID, "interrupted by shutdown", now)
		return false, ctx.Err()
	case permanent(err):
		reason := reasonOf(err)
		if merr := e.cfg.Store.MarkRejected(rctx, p.UUID, reason); merr != nil {
			return false, merr
		}
		e.linkOK()
		e.log.Warn("sync: submission rejected by the platform", "receipt", p.Receipt, "reason", reason)
		e.update(func(pr *Progress) {
			pr.Rejected++
			pr.LastError = p.Receipt + ": " + reason
			if pr.ItemsLeft > 0 {
				pr.ItemsLeft--
			}
		})
		return true, nil // settled: not to be sent again
	case isLinkFailure(err):
		// Not the item's fault: due again at once, but the engine goes
		// offline and probes before trying anything else.
		next := now
		if ra := client.RetryAfter(err); ra > 0 {
			next = now.Add(ra)
		}
		if merr := e.cfg.Store.MarkRetry(rctx, p.UUID, reasonOf(err), next); merr != nil {
			e.log.Error("sync: MarkRetry failed", "receipt", p.Receipt, "err", merr)
		}
		e.update(func(pr *Progress) { pr.Retried++ })
		e.linkFailed(err)
		return false, err
	default:
		// Something about this item (a conflict, a blob the platform
		// refuses to complete, a local read error): back off this item
		// only and carry on with the rest of the queue.
		d := client.Jitter(client.Exponential(e.cfg.RetryBase, e.cfg.RetryMax, p.Attempts-1), e.cfg.Rand)
		if ra := client.RetryAfter(err); ra > d {
			d = ra
		}
		reason := reasonOf(err)
		if merr := e.cfg.Store.MarkRetry(rctx, p.UUID, reason, now.Add(d)); merr != nil {
			e.log.Error("sync: MarkRetry failed", "receipt", p.Receipt, "err", merr)
			return false, merr
		}
		e.log.Warn("sync: submission will be retried", "receipt", p.Receipt, "in", d.Round(time.Second), "reason", reason)
		e.update(func(pr *Progress) { pr.Retried++; pr.LastError = p.Receipt + ": " + reason })
		return false, nil
	}
}

// hold keeps a submission queued under another kiosk ID instead of sending
// it: the platform would answer "kiosk_id must be the signing kiosk", a 4xx,
// and the submission would be rejected for good although nothing is wrong
// with it. It is looked at again after RetryMax, so setting kiosk.id back
// sends it (as does `onedoor sync now`). Only an outbox failure stops the
// pass.
func (e *Engine) hold(ctx context.Context, p *outbox.Pending) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	reason := fmt.Sprintf("held: queued as kiosk %s, but this kiosk is now %s; the platform takes a submission only from the kiosk that made it. "+
		"Set kiosk.id back to %s until the queue is empty, then change it", p.Request.KioskID, e.cfg.KioskID, p.Request.KioskID)
	if err := e.cfg.Store.MarkRetry(rctx, p.UUID, reason, e.cfg.Clock().Add(e.cfg.RetryMax)); err != nil {
		e.log.Error("sync: MarkRetry failed", "receipt", p.Receipt, "err", err)
		return err
	}
	e.log.Warn("sync: submission held: queued under another kiosk ID", "receipt", p.Receipt, "queued_as", p.Request.KioskID, "kiosk", e.cfg.KioskID)
	e.update(func(pr *Progress) { pr.Held++; pr.LastError = p.Receipt + ": " + reason })
	return nil
}

// permanent is the platform's final word on a submission. A blob that did
// not hash to its address on arrival is not: the outbox authenticates every
// segment it reads, so the bytes were damaged on the way, and the platform
// has discarded them; send again.
func permanent(err error) bool {
	var ae *client.APIError
	if errors.As(err, &ae) && ae.Code == api.CodeHashMismatch {
		return false
	}
	return client.IsPermanent(err)
}

func blobBytes(p *outbox.Pending) int64 {
	var n int64
	for _, b := range p.Blobs {
		n += b.Size
	}
	return n
}

// reasonOf is the text kept for the technician. Errors from the client and
// the outbox carry no personal data (the client's messages name methods,
// paths, status codes and platform error codes).
func reasonOf(err error) string {
	s := err.Error()
	if len(s) > 400 {
		s = s[:400]
	}
	return client.RedactIDs(s)
}

// deliver uploads the blobs and posts the submission. If the platform
// still reports blobs missing (it lost or discarded a partial upload), it
// uploads those and posts once more.
func (e *Engine) deliver(ctx context.Context, p *outbox.Pending) (*api.SubmissionResponse, error) {
	// On a submission's first attempt its blobs were never offered, so the
	// HEAD asking for their offset is skipped; if one is there anyway
	// (shared with another submission) the platform's 409 says so.
	fresh := p.Attempts == 1
	for _, b := range p.Blobs {
		if err := e.upload(ctx, b, fresh); err != nil {
			return nil, err
		}
	}
	resp, err := e.cfg.Platform.Submit(ctx, &p.Request)
	return e.fillMissing(ctx, p, resp, err)
}

// fillMissing follows up a submission's answer: when the platform reports
// blobs missing (it lost or discarded a partial upload, or refused a page
// of a batch), it uploads those and posts the submission once more.
func (e *Engine) fillMissing(ctx context.Context, p *outbox.Pending, resp *api.SubmissionResponse, err error) (*api.SubmissionResponse, error) {
	var ae *client.APIError
	if errors.Is(err, client.ErrMissingBlobs) && errors.As(err, &ae) {
		for _, sha := range ae.MissingBlobs {
			ref, ok := findBlob(p, sha)
			if !ok {
				return nil, fmt.Errorf("platform asks for blob %.12s that the submission does not name: %w", sha, err)
			}
			if uerr := e.upload(ctx, ref, false); uerr != nil {
				return nil, uerr
			}
		}
		resp, err = e.cfg.Platform.Submit(ctx, &p.Request)
	}
	return resp, err
}

func findBlob(p *outbox.Pending, sha string) (api.BlobRef, bool) {
	for _, b := range p.Blobs {
		if b.SHA256 == sha {
			return b, true
		}
	}
	return api.BlobRef{}, false
}

func (e *Engine) upload(ctx context.Context, b api.BlobRef, fresh bool) error {
	r, err := e.cfg.Store.OpenBlob(ctx, b.SHA256)
	if err != nil {
		return fmt.Errorf("local blob %.12s: %w", b.SHA256, err)
	}
	defer r.Close()
	if r.Size() != b.Size {
		return fmt.Errorf("local blob %.12s holds %d bytes, submission says %d", b.SHA256, r.Size(), b.Size)
	}
	send := e.cfg.Platform.UploadBlob
	if fresh {
		send = e.cfg.Platform.UploadNewBlob
	}
	_, err = send(ctx, b.SHA256, b.Size, r, func(off int64) {
		e.update(func(pr *Progress) { pr.CurrentSent = off })
	})
	return err
}

func (e *Engine) drainRatings(ctx context.Context) error {
	for ctx.Err() == nil {
		r, err := e.cfg.Store.NextRating(ctx)
		if err != nil || r == nil {
			return err
		}
		err = e.cfg.Platform.Rate(ctx, r)
		switch {
		case err == nil:
			if err := e.cfg.Store.MarkRatingSent(ctx, r.UUID, e.cfg.Clock()); err != nil {
				return err
			}
		case client.IsPermanent(err):
			// A rating the platform refuses cannot be fixed on the kiosk,
			// and must not hold back the ones behind it; it is kept with
			// its reason, out of the queue, for the technician to see.
			reason := reasonOf(err)
			if err := e.cfg.Store.MarkRatingRejected(ctx, r.UUID, reason); err != nil {
				return err
			}
			e.log.Warn("sync: rating refused by the platform; kept, not retried", "rating", r.UUID, "reason", reason)
			e.update(func(p *Progress) { p.LastError = "rating " + r.UUID + ": " + reason })
		default:
			if isLinkFailure(err) && ctx.Err() == nil {
				e.linkFailed(err)
			}
			// The rest wait for the next cycle: ratings go oldest first.
			return err
		}
	}
	return ctx.Err()
}

// pull fetches status changes (following More) and the catalog.
func (e *Engine) pull(ctx context.Context) error {
	cursor, err := e.cfg.Store.StatusCursor(ctx)
	if err != nil {
		return err
	}
	for page := 0; page < 100; page++ {
		resp, err := e.cfg.Platform.Statuses(ctx, cursor)
		if err != nil {
			if isLinkFailure(err) && ctx.Err() == nil {
				e.linkFailed(err)
			}
			return err
		}
		if len(resp.Updates) > 0 || resp.Cursor != cursor {
			if err := e.cfg.Store.ApplyStatuses(ctx, resp.Updates, resp.Cursor); err != nil {
				return err
			}
		}
		cursor = resp.Cursor
		if !resp.More {
			break
		}
	}
	if err := e.pullDocument(ctx, outbox.DocCatalog, e.cfg.Platform.Catalog); err != nil {
		return err
	}
	return e.pullDocument(ctx, outbox.DocCalendar, e.cfg.Platform.Calendar)
}

// pullDocument refreshes one cached document (catalog, calendar) if the
// platform's ETag differs from ours. A platform that publishes none (404)
// leaves ours as it is.
func (e *Engine) pullDocument(ctx context.Context, doc outbox.Document, fetch func(context.Context, string) ([]byte, string, bool, error)) error {
	etag, err := e.cfg.Store.DocumentETag(ctx, doc)
	if err != nil {
		return err
	}
	body, newTag, changed, err := fetch(ctx, etag)
	switch {
	case errors.Is(err, client.ErrNotFound):
	case err != nil:
		if isLinkFailure(err) && ctx.Err() == nil {
			e.linkFailed(err)
		}
		return err
	case changed:
		if err := e.cfg.Store.SaveDocument(ctx, doc, newTag, body); err != nil {
			return err
		}
		e.log.Info("sync: document updated", "document", doc, "etag", newTag)
	}
	return nil
}

// probe is the heartbeat sent while offline, bounded by ProbeTimeout. A
// probe that times out is a link failure like a refused connection.
func (e *Engine) probe(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(ctx, e.cfg.ProbeTimeout)
	defer cancel()
	err := e.heartbeat(pctx)
	if err != nil && pctx.Err() != nil && ctx.Err() == nil {
		return fmt.Errorf("%w: no answer within %v: %w", client.ErrUnavailable, e.cfg.ProbeTimeout, err)
	}
	return err
}

// heartbeat reports health and learns the clock offset; it doubles as the
// probe while offline.
func (e *Engine) heartbeat(ctx context.Context) error {
	st, err := e.cfg.Store.Stats(ctx)
	if err != nil {
		return err
	}
	hb := &api.Heartbeat{
		KioskID: e.cfg.KioskID, Version: e.cfg.Version,
		QueueDepth: st.Queued, OldestAgeSeconds: int64(st.OldestAge / time.Second),
		FreeDiskBytes: st.FreeDiskBytes, LastSync: st.LastSentAt,
		ClockOffsetMS: e.cfg.Platform.ClockOffset().Milliseconds(),
	}
	if e.cfg.Devices != nil {
		hb.Devices = e.cfg.Devices()
	}
	if e.cfg.PaperNearEnd != nil {
		hb.PaperNearEnd = e.cfg.PaperNearEnd()
	}
	if _, err := e.cfg.Platform.Heartbeat(ctx, hb); err != nil {
		return err
	}
	t1 := e.cfg.Clock()
	e.lastHeartbeat = t1
	e.update(func(p *Progress) { p.ItemsLeft, p.BytesLeft = st.Queued, st.BytesLeft })
	return nil
}
