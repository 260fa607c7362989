package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// ErrStalled is returned (wrapped) when an attempt made no progress for the
// idle timeout: a half-open connection or a link that silently died. The
// attempt is abandoned and retried; a whole-request timeout would instead
// kill a slow but healthy 5 MB upload on a 64 kbit/s line.
var ErrStalled = errors.New("connection stalled")

// attemptTransport runs once per attempt under go-retryablehttp, which makes
// it the one place where every attempt can be signed afresh (new timestamp
// and nonce), watched for stalls and throttled.
type attemptTransport struct {
	next     http.RoundTripper
	idle     time.Duration
	sign     func(*http.Request) error
	throttle *Throttle
	// answered sees every response's status and headers (clock learning).
	answered func(*http.Response)
}

func (t *attemptTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	wd := newWatchdog(t.idle, func() { cancel(ErrStalled) })
	r := req.Clone(ctx)
	// A signed request must not be replayed below us by net/http with the
	// same nonce: the platform would call it a replay.
	r.GetBody = nil
	if req.Body != nil && req.Body != http.NoBody {
		r.Body = &progressBody{ctx: ctx, rc: req.Body, wd: wd, throttle: t.throttle}
	}
	if err := t.sign(r); err != nil {
		wd.stop()
		cancel(nil)
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("sign request: %w", errors.Join(err, errNoRetry))
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		wd.stop()
		err = stallCause(ctx, err)
		cancel(nil)
		return nil, err
	}
	wd.kick()
	if t.answered != nil {
		t.answered(resp)
	}
	resp.Body = &responseBody{ctx: ctx, rc: resp.Body, wd: wd, cancel: cancel}
	return resp, nil
}

func stallCause(ctx context.Context, err error) error {
	if errors.Is(context.Cause(ctx), ErrStalled) && !errors.Is(err, ErrStalled) {
		return fmt.Errorf("%w: %w", ErrStalled, err)
	}
	return err
}

// watchdog fires when kick has not been called for d. d <= 0 disables it.
type watchdog struct {
	d     time.Duration
	mu    sync.Mutex
	timer *time.Timer
	done  bool
}

func newWatchdog(d time.Duration, fire func()) *watchdog {
	w := &watchdog{d: d}
	if d > 0 {
		w.timer = time.AfterFunc(d, fire)
	}
	return w
}

func (w *watchdog) kick() {
	if w.timer == nil {
		return
	}
	w.mu.Lock()
	if !w.done {
		w.timer.Reset(w.d)
	}
	w.mu.Unlock()
}

// extend gives the next quiet spell d more than usual, once: the time a
// body handed to the kernel may take to drain over a slow link.
func (w *watchdog) extend(d time.Duration) {
	if w.timer == nil {
		return
	}
	w.mu.Lock()
	if !w.done {
		w.timer.Reset(w.d + d)
	}
	w.mu.Unlock()
}

func (w *watchdog) stop() {
	if w.timer == nil {
		return
	}
	w.mu.Lock()
	w.done = true
	w.timer.Stop()
	w.mu.Unlock()
}

// progressBody feeds the watchdog as net/http consumes the request body and
// applies the bandwidth cap.
type progressBody struct {
	ctx      context.Context
	rc       io.ReadCloser
	wd       *watchdog
	throttle *Throttle
	n        int64
}

// drainRate is the rate, in bytes per second (256 kbit/s), at which the
// stall watchdog assumes a body handed to the kernel drains. A body is
// "read" as soon as net/http has handed it to the kernel, whose socket
// buffers can hold megabytes; on a slow link they drain long after the
// last read, while nothing moves that the watchdog can see. So once the
// whole body is read, the wait for the answer may take the idle timeout
// plus the body's size at this rate. A slower link that holds more than
// that (a 1 MiB batch at 64 kbit/s) sees the request cut as stalled and
// the engine shrinks its next batches; a half-open connection is found
// after at most the idle timeout plus a few seconds per 100 KiB sent.
const drainRate = 32 << 10

func (b *progressBody) Read(p []byte) (int, error) {
	if b.throttle != nil {
		if len(p) > b.throttle.burst {
			p = p[:b.throttle.burst]
		}
	}
	n, err := b.rc.Read(p)
	b.n += int64(n)
	b.wd.kick()
	if n > 0 && b.throttle != nil {
		if werr := b.throttle.WaitN(b.ctx, n); werr != nil {
			return n, werr
		}
		b.wd.kick()
	}
	if err == io.EOF {
		b.wd.extend(time.Duration(b.n) * time.Second / drainRate)
	}
	return n, err
}

func (b *progressBody) Close() error { return b.rc.Close() }

type responseBody struct {
	ctx    context.Context
	rc     io.ReadCloser
	wd     *watchdog
	cancel context.CancelCauseFunc
	once   sync.Once
}

func (b *responseBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.wd.kick()
	if err != nil && err != io.EOF {
		err = stallCause(b.ctx, err)
	}
	return n, err
}

func (b *responseBody) Close() error {
	err := b.rc.Close()
	b.once.Do(func() {
		b.wd.stop()
		b.cancel(nil)
	})
	return err
}

// Throttle is a token bucket shared by every request of a client, so the cap
// applies to the kiosk's whole uplink (a village office line shared with
// staff), not to each connection.
type Throttle struct {
	rate   float64 // bytes per second
	burst  int
	now    func() time.Time
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// NewThrottle caps throughput at bytesPerSec. The burst is a quarter second
// of traffic (at least 1 KiB) so the cap holds over short windows too.
func NewThrottle(bytesPerSec int64) *Throttle {
	burst := int(bytesPerSec / 4)
	if burst < 1024 {
		burst = 1024
	}
	return &Throttle{rate: float64(bytesPerSec), burst: burst, now: time.Now, tokens: float64(burst)}
}

// WaitN blocks until n bytes may be sent; n must not exceed the burst.
// Tokens are reserved on arrival and the debt slept off, so concurrent
// uploads are served in turn rather than the luckiest first.
func (t *Throttle) WaitN(ctx context.Context, n int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t.mu.Lock()
	now := t.now()
	if !t.last.IsZero() {
		t.tokens += now.Sub(t.last).Seconds() * t.rate
		if t.tokens > float64(t.burst) {
			t.tokens = float64(t.burst)
		}
	}
	t.last = now
	if t.tokens < float64(n) && ctx.Done() != nil {
		select {
		case <-ctx.Done():
			t.mu.Unlock()
			return ctx.Err()
		default:
		}
	}
	t.tokens -= float64(n)
	var wait time.Duration
	if t.tokens < 0 {
		wait = time.Duration(-t.tokens / t.rate * float64(time.Second))
	}
	t.mu.Unlock()
	if wait == 0 {
		return nil
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
