// Package client talks to the OneDoor platform over the v1 sync protocol
// (see sync/api and docs/sync-api.md). It is built on
// github.com/hashicorp/go-retryablehttp for the short inner retry loop only:
// a call gives up after a handful of attempts and reports a classified error,
// and the persistent outer loop (sync/engine) decides when to try again.
//
// What the client adds to the library, and why:
//   - a retry policy that retries connection errors, 408, 425, 429 and 5xx
//     except 501, and never any other 4xx verdict;
//   - exponential backoff with jitter that honours Retry-After, clamped;
//   - every attempt signed afresh (timestamp, nonce) in the transport, so a
//     retry is never refused as a replay;
//   - a per-attempt idle watchdog instead of a whole-request timeout, so a
//     half-open connection is abandoned while a slow upload is not;
//   - blob bodies streamed from an io.ReaderAt with an explicit
//     ContentLength (never buffered, never chunked);
//   - a logger that never prints the token, query strings or ID numbers.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"

	"onedoor/sync/api"
)

// Sentinel errors; every error a call returns wraps exactly one of them (or
// a context error), so the engine can decide what to do with the item.
var (
	// ErrRejected is the platform's permanent verdict on a request (a 4xx
	// other than 401/403/404/408/409/425/429 with a proper error body).
	// Repeating the request cannot change the answer.
	ErrRejected = errors.New("rejected by the platform")
	// ErrMissingBlobs means the platform lacks blobs the submission names;
	// upload them (APIError.MissingBlobs) and send the submission again.
	ErrMissingBlobs = errors.New("platform is missing blobs")
	// ErrConflict is a 409: an Upload-Offset mismatch on a blob PATCH, or
	// the same Idempotency-Key with a different body.
	ErrConflict = errors.New("conflict")
	// ErrUnauthorized is a 401/403: unknown kiosk, wrong token, clock skew.
	// It concerns the kiosk, not the item being sent.
	ErrUnauthorized = errors.New("platform refused the kiosk's credentials")
	// ErrNotFound is a 404 with a platform error body.
	ErrNotFound = errors.New("not found on the platform")
	// ErrUnavailable covers everything transient that outlived the inner
	// retries: connection errors, stalls, 408/425/429/5xx.
	ErrUnavailable = errors.New("platform unavailable")
	// ErrBadResponse is an answer that is not the protocol: garbage, an
	// HTML page from a captive portal or proxy, a body for another request.
	// It is treated as transient.
	ErrBadResponse = errors.New("unexpected response from the platform")
)

// APIError is an HTTP answer other than success, with the platform's error
// body when it sent one.
type APIError struct {
	Status       int
	Code         string
	Message      string
	MissingBlobs []string
	Offset       int64         // current Upload-Offset on a PATCH conflict, -1 if unknown
	RetryAfter   time.Duration // from a Retry-After header, 0 if none
	kind         error
}

func (e *APIError) Error() string {
	msg := e.Message
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	if e.Code != "" {
		return fmt.Sprintf("%v: HTTP %d %s: %s", e.kind, e.Status, e.Code, msg)
	}
	return fmt.Sprintf("%v: HTTP %d", e.kind, e.Status)
}

func (e *APIError) Unwrap() error { return e.kind }

// IsPermanent reports whether err is a verdict that no retry can change.
func IsPermanent(err error) bool { return errors.Is(err, ErrRejected) }

// RetryAfter returns the platform's requested wait carried by err, or 0.
func RetryAfter(err error) time.Duration {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.RetryAfter
	}
	return 0
}

// Config configures a Client. Zero values get the defaults noted.
type Config struct {
	BaseURL string // e.g. https://platform.example.gov.cn (no trailing /api/v1)
	KioskID string
	// Token is the kiosk's credential as kept in its config: the legacy
	// shared token, or "ed25519:" and the hex seed of its private key
	// (what Enrol returns). Signer, when set, is used instead.
	Token  string
	Signer api.Signer

	// Transport carries the requests (tests put a fault proxy dialer here);
	// nil means a pooled transport from go-cleanhttp.
	Transport http.RoundTripper

	RetryMax      int           // inner retries per call; default 3 (4 attempts)
	RetryWaitMin  time.Duration // default 250 ms
	RetryWaitMax  time.Duration // default 8 s
	MaxRetryAfter time.Duration // clamp on Retry-After; default 2 min
	IdleTimeout   time.Duration // per attempt: no byte moved for this long; default 30 s
	// ChunkSize caps the bytes of one blob PATCH; 0 sends the rest of the
	// blob in one request (the platform keeps what arrives if the link
	// drops, so large chunks lose nothing).
	ChunkSize int64
	Throttle  *Throttle // optional bandwidth cap shared by all requests

	Logger *slog.Logger           // nil discards
	Clock  func() time.Time       // default time.Now
	Rand   func() float64         // jitter source, default math/rand/v2
	Nonce  func() (string, error) // default api.NewNonce
}

// Client is safe for concurrent use.
type Client struct {
	cfg   Config
	base  *url.URL
	rc    *retryablehttp.Client // JSON calls: retried inside
	once  *retryablehttp.Client // blob PATCH: one attempt, the caller resumes
	log   *slog.Logger
	clock *clockOffset
}

type clockOffset struct {
	mu sync.Mutex
	d  time.Duration
}

// New builds a client. It does no I/O.
func New(cfg Config) (*Client, error) {
	if cfg.KioskID == "" || cfg.Token == "" && cfg.Signer == nil {
		return nil, errors.New("client: kiosk id and token (or key) are required")
	}
	if cfg.Signer == nil {
		sg, err := ParseCredential(cfg.Token)
		if err != nil {
			return nil, err
		}
		cfg.Signer = sg
	}
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("client: platform URL %q must be http(s)://host[:port]", cfg.BaseURL)
	}
	if cfg.RetryMax == 0 {
		cfg.RetryMax = 3
	}
	if cfg.RetryMax < 0 {
		cfg.RetryMax = 0
	}
	if cfg.RetryWaitMin <= 0 {
		cfg.RetryWaitMin = 250 * time.Millisecond
	}
	if cfg.RetryWaitMax <= 0 {
		cfg.RetryWaitMax = 8 * time.Second
	}
	if cfg.MaxRetryAfter <= 0 {
		cfg.MaxRetryAfter = 2 * time.Minute
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 30 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Nonce == nil {
		cfg.Nonce = api.NewNonce
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{cfg: cfg, base: base, log: log, clock: &clockOffset{}}
	next := cfg.Transport
	if next == nil {
		next = cleanhttp.DefaultPooledTransport()
	}
	at := &attemptTransport{next: next, idle: cfg.IdleTimeout, sign: c.sign, throttle: cfg.Throttle, answered: c.learnClock}
	bo := backoff{maxRetryAfter: cfg.MaxRetryAfter, now: cfg.Clock, rand: cfg.Rand}
	mk := func(retryMax int) *retryablehttp.Client {
		return &retryablehttp.Client{
			HTTPClient:   &http.Client{Transport: at},
			Logger:       leveledLogger{log: log, r: redactor{secrets: secrets(cfg.Token)}},
			RetryWaitMin: cfg.RetryWaitMin,
			RetryWaitMax: cfg.RetryWaitMax,
			RetryMax:     retryMax,
			CheckRetry:   checkRetry,
			Backoff:      bo.wait,
			ErrorHandler: retryablehttp.PassthroughErrorHandler,
		}
	}
	c.rc = mk(cfg.RetryMax)
	c.once = mk(0)
	return c, nil
}

// secrets lists what the logger must never print: the credential, and the
// bare seed of a key credential.
func secrets(cred string) []string {
	out := []string{}
	if cred != "" {
		out = append(out, cred)
	}
	for _, prefix := range []string{ed25519Prefix, sm2Prefix} {
		if key, ok := strings.CutPrefix(cred, prefix); ok {
			out = append(out, key)
		}
	}
	return out
}

// SetClockOffset corrects the signing clock by d (platform time minus local
// time, as learned from a heartbeat), so a kiosk whose RTC drifted still
// passes the platform's five-minute skew check.
func (c *Client) SetClockOffset(d time.Duration) {
	c.clock.mu.Lock()
	c.clock.d = d
	c.clock.mu.Unlock()
}

func (c *Client) now() time.Time {
	c.clock.mu.Lock()
	d := c.clock.d
	c.clock.mu.Unlock()
	return c.cfg.Clock().Add(d)
}

// learnClock corrects the signing clock from the Date header of a 401.
// A kiosk whose clock drifted past the platform's five-minute window gets
// 401 for every request, including the heartbeat that would tell it the
// platform's time; the Date header (one-second precision) breaks that
// circle. Small differences are left to the heartbeat.
func (c *Client) learnClock(resp *http.Response) {
	if resp.StatusCode != http.StatusUnauthorized {
		return
	}
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return
	}
	skew := date.Sub(c.now())
	if skew < time.Minute && skew > -time.Minute {
		return
	}
	c.clock.mu.Lock()
	c.clock.d += skew
	c.clock.mu.Unlock()
	c.log.Warn("kiosk clock differs from the platform's; signing with platform time", "offset", skew.Round(time.Second))
}

// sign runs once per attempt: fresh timestamp and nonce each time.
func (c *Client) sign(r *http.Request) error {
	nonce, err := c.cfg.Nonce()
	if err != nil {
		return err
	}
	sum := r.Header.Get(api.HeaderContentSHA256)
	return api.SignWith(r, c.cfg.KioskID, c.cfg.Signer, sum, c.now(), nonce)
}

// call describes one logical request.
type call struct {
	method string
	path   string // escaped path and query below BaseURL
	json   []byte // JSON body, or nil
	// raw is another body signed whole (a batch), of type rawType.
	raw     []byte
	rawType string
	// stream is a body read from an io.ReaderAt section, for blob PATCH.
	stream  *io.SectionReader
	header  map[string]string
	success func(status int) bool
	// decode reads a successful response. An error means the answer was
	// not the protocol (garbage, HTML) and the attempt is retried.
	decode func(*http.Response) error
	single bool // no inner retries (blob PATCH resumes from the platform's offset instead)
}

type result struct {
	status int
	header http.Header
}

func (c *Client) do(ctx context.Context, cl call) (result, error) {
	var body any
	contentSHA := api.EmptySHA256
	var length int64
	switch {
	case cl.stream != nil:
		s := cl.stream
		length = s.Size()
		body = retryablehttp.ReaderFunc(func() (io.Reader, error) {
			return io.NewSectionReader(s, 0, s.Size()), nil
		})
		contentSHA = api.UnsignedPayload
	case cl.json != nil:
		body = cl.json
		length = int64(len(cl.json))
		contentSHA = api.BodySHA256(cl.json)
	case cl.raw != nil:
		body = cl.raw
		length = int64(len(cl.raw))
		contentSHA = api.BodySHA256(cl.raw)
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, cl.method, c.base.String()+cl.path, body)
	if err != nil {
		return result{}, fmt.Errorf("%s %s: %w", cl.method, cl.path, err)
	}
	req.ContentLength = length
	req.Header.Set(api.HeaderContentSHA256, contentSHA)
	if cl.json != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cl.raw != nil {
		req.Header.Set("Content-Type", cl.rawType)
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range cl.header {
		req.Header.Set(k, v)
	}
	var apiErr *APIError
	refused := false
	req.SetResponseHandler(func(resp *http.Response) error {
		apiErr = nil
		if resp.StatusCode == http.StatusUnauthorized && !refused {
			// One fresh try: net/http may have replayed our nonce on a
			// reused connection, or learnClock has just corrected a
			// skewed clock. A second 401 is the platform's verdict.
			refused = true
			return fmt.Errorf("%w: HTTP 401; retrying once with a fresh signature", ErrUnauthorized)
		}
		if cl.success(resp.StatusCode) {
			if cl.decode == nil {
				return nil
			}
			if err := cl.decode(resp); err != nil {
				return fmt.Errorf("%w: HTTP %d: %w", ErrBadResponse, resp.StatusCode, err)
			}
			return nil
		}
		ae, err := readAPIError(resp, c.cfg.Clock())
		if err != nil {
			// A verdict we cannot read is not a verdict: a proxy or a
			// captive portal answered, so try again.
			return err
		}
		apiErr = ae
		return nil
	})
	hc := c.rc
	if cl.single {
		hc = c.once
	}
	resp, err := hc.Do(req)
	if resp != nil && resp.Body != nil {
		defer resp.Body.Close()
	}
	if err != nil {
		if ctx.Err() != nil {
			return result{}, fmt.Errorf("%s %s: %w", cl.method, cl.path, ctx.Err())
		}
		if errors.Is(err, ErrBadResponse) || errors.Is(err, ErrUnavailable) {
			return result{}, fmt.Errorf("%s %s: %w", cl.method, cl.path, err)
		}
		return result{}, fmt.Errorf("%s %s: %w: %w", cl.method, cl.path, ErrUnavailable, err)
	}
	res := result{status: resp.StatusCode, header: resp.Header}
	if apiErr != nil {
		return res, fmt.Errorf("%s %s: %w", cl.method, cl.path, apiErr)
	}
	if cl.success(resp.StatusCode) {
		return res, nil
	}
	// Retries ran out on a transient status: the handler never saw it.
	ae, rerr := readAPIError(resp, c.cfg.Clock())
	if rerr != nil {
		ae = &APIError{Status: resp.StatusCode, Offset: -1, kind: ErrUnavailable, Message: "unreadable error body"}
		ae.RetryAfter, _ = parseRetryAfter(resp.Header.Get("Retry-After"), c.cfg.Clock())
	}
	return res, fmt.Errorf("%s %s: %w", cl.method, cl.path, ae)
}

// readAPIError turns a non-success answer into an APIError. It fails with
// ErrBadResponse when a 4xx does not carry the protocol's JSON error body.
func readAPIError(resp *http.Response, now time.Time) (*APIError, error) {
	ae := &APIError{Status: resp.StatusCode, Offset: -1}
	ae.RetryAfter, _ = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	if v := resp.Header.Get(api.HeaderUploadOffset); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			ae.Offset = n
		}
	}
	raw, rerr := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	head := resp.Request != nil && resp.Request.Method == http.MethodHead
	return classify(ae, raw, rerr, head)
}

// classify reads the error body raw (rerr: reading it failed) of ae's
// status into ae and decides its kind. head: the answer to a HEAD, whose
// status is all there is.
func classify(ae *APIError, raw []byte, rerr error, head bool) (*APIError, error) {
	var er api.ErrorResponse
	jerr := rerr
	if head {
		// A HEAD answer has no body: its status is all there is.
		jerr = nil
	} else if jerr == nil {
		jerr = json.Unmarshal(raw, &er)
		if jerr == nil && er.Code == "" {
			jerr = errors.New("error body without a code")
		}
	}
	if jerr == nil && !head {
		ae.Code, ae.Message, ae.MissingBlobs = er.Code, er.Message, er.MissingBlobs
		if er.Offset != nil && ae.Offset < 0 {
			ae.Offset = *er.Offset
		}
	} else {
		ae.Message = http.StatusText(ae.Status)
	}
	switch s := ae.Status; {
	case retryable(s):
		ae.kind = ErrUnavailable
		return ae, nil
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		ae.kind = ErrUnauthorized
	case s == http.StatusConflict:
		ae.kind = ErrConflict
	case s == http.StatusNotFound:
		ae.kind = ErrNotFound
	case er.Code == api.CodeMissingBlobs:
		ae.kind = ErrMissingBlobs
	case s >= 400 && s < 500:
		ae.kind = ErrRejected
	case s >= 500:
		// 501 and friends: the platform cannot do this now. Not a
		// verdict on the item, and not worth an immediate retry.
		ae.kind = ErrUnavailable
		return ae, nil
	default:
		// 1xx/3xx or a 2xx the call did not expect.
		ae.kind = ErrBadResponse
		return nil, fmt.Errorf("%w: HTTP %d", ErrBadResponse, s)
	}
	if jerr != nil {
		return nil, fmt.Errorf("%w: HTTP %d with a body that is not the protocol's: %v", ErrBadResponse, ae.Status, jerr)
	}
	return ae, nil
}

func okStatus(codes ...int) func(int) bool {
	return func(s int) bool {
		for _, c := range codes {
			if s == c {
				return true
			}
		}
		return false
	}
}

// decodeJSON reads a JSON body of at most 1 MiB into v and checks it with
// valid, so HTML or a truncated body is caught as a bad response.
func decodeJSON[T any](v *T, valid func(*T) error) func(*http.Response) error {
	return func(resp *http.Response) error {
		ct := resp.Header.Get("Content-Type")
		if ct != "" && !strings.Contains(ct, "json") {
			return fmt.Errorf("content type %q", ct)
		}
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return err
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		var out T
		if err := dec.Decode(&out); err != nil {
			return fmt.Errorf("decode: %w", err)
		}
		if valid != nil {
			if err := valid(&out); err != nil {
				return err
			}
		}
		*v = out
		return nil
	}
}

// --- blobs ---

func blobPath(sha string) (string, error) {
	if !api.IsSHA256Hex(sha) {
		return "", fmt.Errorf("client: %q is not a lowercase hex SHA-256", sha)
	}
	return api.PathBlobs + sha, nil
}

// BlobOffset asks how many bytes of a blob the platform holds: 0 when it
// never saw it, the size when it is complete.
func (c *Client) BlobOffset(ctx context.Context, sha string) (int64, error) {
	p, err := blobPath(sha)
	if err != nil {
		return 0, err
	}
	res, err := c.do(ctx, call{method: http.MethodHead, path: p, success: okStatus(200, 204)})
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, perr := strconv.ParseInt(res.header.Get(api.HeaderUploadOffset), 10, 64)
	if perr != nil || n < 0 {
		return 0, fmt.Errorf("HEAD %s: %w: Upload-Offset %q", p, ErrBadResponse, res.header.Get(api.HeaderUploadOffset))
	}
	return n, nil
}

// PatchBlob sends bytes [offset, offset+n) of a blob of total size in one
// attempt and returns the platform's new offset. The body streams from src;
// nothing is buffered. On ErrConflict the APIError carries the platform's
// offset (or -1).
func (c *Client) PatchBlob(ctx context.Context, sha string, total, offset, n int64, src io.ReaderAt) (int64, error) {
	p, err := blobPath(sha)
	if err != nil {
		return 0, err
	}
	if offset < 0 || n <= 0 || offset+n > total {
		return 0, fmt.Errorf("client: PATCH range [%d,+%d) outside blob of %d bytes", offset, n, total)
	}
	hdr := map[string]string{
		api.HeaderUploadOffset: strconv.FormatInt(offset, 10),
		api.HeaderUploadLength: strconv.FormatInt(total, 10),
		"Content-Type":         api.ContentTypeOffset,
	}
	if n > expectAbove {
		// Let the platform refuse (409, 401, 503) before the body is on
		// the wire rather than after.
		hdr["Expect"] = "100-continue"
	}
	res, err := c.do(ctx, call{
		method: http.MethodPatch, path: p, header: hdr, single: true,
		stream:  io.NewSectionReader(src, offset, n),
		success: okStatus(200, 204),
	})
	if err != nil {
		return 0, err
	}
	got, perr := strconv.ParseInt(res.header.Get(api.HeaderUploadOffset), 10, 64)
	if perr != nil || got < offset || got > total {
		return 0, fmt.Errorf("PATCH %s: %w: Upload-Offset %q", p, ErrBadResponse, res.header.Get(api.HeaderUploadOffset))
	}
	return got, nil
}

// UploadStats says what an upload cost.
type UploadStats struct {
	Size      int64
	StartedAt int64 // the platform's offset when we began (resumed from)
	Sent      int64 // body bytes read by the transport, re-sent ones included
	Attempts  int   // PATCH requests
}

// UploadBlob makes sure the platform holds the whole blob: it asks for the
// current offset and PATCHes from there, re-asking after every failure, so a
// dropped link costs only the bytes that were in flight. It gives up after
// RetryMax+1 consecutive attempts that moved nothing and returns the last
// error; progress is called with the platform's offset as it grows.
func (c *Client) UploadBlob(ctx context.Context, sha string, size int64, src io.ReaderAt, progress func(offset int64)) (UploadStats, error) {
	return c.uploadBlob(ctx, sha, size, src, progress, false)
}

// UploadNewBlob is UploadBlob for a blob the caller has never tried to
// send: it skips the opening HEAD and PATCHes from offset 0 straight away,
// saving one signed round trip per blob on a backlog. It stays correct when
// the guess is wrong (the blob is shared with an earlier submission, or an
// upload the caller forgot about got partway): the platform refuses the
// PATCH with 409 and its real offset (before the body is sent when the
// chunk is over expectAbove, thanks to Expect: 100-continue) and the upload
// continues from there.
func (c *Client) UploadNewBlob(ctx context.Context, sha string, size int64, src io.ReaderAt, progress func(offset int64)) (UploadStats, error) {
	return c.uploadBlob(ctx, sha, size, src, progress, true)
}

func (c *Client) uploadBlob(ctx context.Context, sha string, size int64, src io.ReaderAt, progress func(offset int64), assumeNew bool) (UploadStats, error) {
	st := UploadStats{Size: size}
	var off int64
	if !assumeNew {
		var err error
		if off, err = c.BlobOffset(ctx, sha); err != nil {
			return st, err
		}
	}
	if off > size {
		return st, fmt.Errorf("blob %s: platform holds %d bytes of a %d-byte blob: %w", sha[:12], off, size, ErrConflict)
	}
	st.StartedAt = off
	if progress != nil {
		progress(off)
	}
	fails := 0
	for off < size {
		n := size - off
		if c.cfg.ChunkSize > 0 && n > c.cfg.ChunkSize {
			n = c.cfg.ChunkSize
		}
		st.Attempts++
		cr := &countingReaderAt{r: src}
		got, err := c.PatchBlob(ctx, sha, size, off, n, cr)
		st.Sent += cr.n.Load()
		if err == nil {
			off, fails = got, 0
			if progress != nil {
				progress(off)
			}
			continue
		}
		if ctx.Err() != nil {
			return st, err
		}
		if IsPermanent(err) || errors.Is(err, ErrUnauthorized) {
			return st, err
		}
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusConflict && ae.Offset >= 0 && ae.Offset <= size && fails <= c.cfg.RetryMax {
			fails++ // a platform that keeps disagreeing must not loop us forever
			if st.Attempts == 1 && assumeNew {
				st.StartedAt = ae.Offset // the guess of 0 was wrong
			}
			// The platform told us where it is; no need to ask.
			if ae.Offset > off {
				fails = 0
			}
			off = ae.Offset
			continue
		}
		fails++
		if fails > c.cfg.RetryMax {
			return st, err
		}
		wait := Jitter(Exponential(c.cfg.RetryWaitMin, c.cfg.RetryWaitMax, fails-1), c.cfg.Rand)
		if ra := RetryAfter(err); ra > 0 {
			wait = min2(ra, c.cfg.MaxRetryAfter)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return st, ctx.Err()
		case <-t.C:
		}
		prev := off
		off, err = c.BlobOffset(ctx, sha)
		if err != nil {
			return st, err
		}
		if off > size {
			return st, fmt.Errorf("blob %s: platform holds %d bytes of a %d-byte blob: %w", sha[:12], off, size, ErrConflict)
		}
		if off > prev {
			fails = 0
		}
		if progress != nil {
			progress(off)
		}
	}
	return st, nil
}

// --- JSON endpoints ---

// Submit posts a submission with its UUID as Idempotency-Key. A replay of
// the same submission gets the platform's first answer, so retrying after a
// lost response is safe.
func (c *Client) Submit(ctx context.Context, s *api.SubmissionRequest) (*api.SubmissionResponse, error) {
	body, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("client: encode submission: %w", err)
	}
	var out api.SubmissionResponse
	_, err = c.do(ctx, call{
		method: http.MethodPost, path: api.PathSubmissions, json: body,
		header:  map[string]string{api.HeaderIdempotencyKey: s.UUID},
		success: okStatus(200, 201),
		decode: decodeJSON(&out, func(r *api.SubmissionResponse) error {
			if r.UUID != s.UUID || r.CaseNumber == "" {
				return fmt.Errorf("answer is for uuid %q with case %q", r.UUID, r.CaseNumber)
			}
			return nil
		}),
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Catalog fetches the service catalog unless it still has etag: changed is
// false (and data nil) on 304 Not Modified.
func (c *Client) Catalog(ctx context.Context, etag string) (data []byte, newETag string, changed bool, err error) {
	return c.document(ctx, api.PathCatalog, etag)
}

// Calendar fetches the working-day calendar the platform publishes, like
// Catalog. ErrNotFound when the platform publishes none.
func (c *Client) Calendar(ctx context.Context, etag string) (data []byte, newETag string, changed bool, err error) {
	return c.document(ctx, api.PathCalendar, etag)
}

// document GETs a JSON document served with an ETag (catalog, calendar).
func (c *Client) document(ctx context.Context, path, etag string) (data []byte, newETag string, changed bool, err error) {
	hdr := map[string]string{}
	if etag != "" {
		hdr["If-None-Match"] = etag
	}
	res, err := c.do(ctx, call{
		method: http.MethodGet, path: path, header: hdr,
		success: okStatus(200, 304),
		decode: func(resp *http.Response) error {
			if resp.StatusCode == http.StatusNotModified {
				return nil
			}
			raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
			if err != nil {
				return err
			}
			if !json.Valid(raw) {
				return fmt.Errorf("%s is not JSON", path)
			}
			data = raw
			return nil
		},
	})
	if err != nil {
		return nil, "", false, err
	}
	if res.status == http.StatusNotModified {
		return nil, etag, false, nil
	}
	return data, res.header.Get("ETag"), true, nil
}

// Statuses fetches status changes of this kiosk's submissions after cursor.
func (c *Client) Statuses(ctx context.Context, cursor string) (*api.StatusesResponse, error) {
	var out api.StatusesResponse
	_, err := c.do(ctx, call{
		method: http.MethodGet, path: api.PathStatuses + "?since=" + url.QueryEscape(cursor),
		success: okStatus(200),
		decode:  decodeJSON(&out, nil),
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// TrackProof proves to the platform that the resident asking owns the
// receipt: the lookup code printed on it, as typed, or the ID number of the
// card just read at this kiosk (sent only as api.HolderProof, bound to the
// receipt). Either may be empty.
type TrackProof struct {
	LookupCode string
	IDNumber   string
}

// Track asks for the progress of a submission by receipt number without
// proof. Platforms that bind lookups to residents (issue 11; the reference
// platform does) answer not found: use TrackProven.
func (c *Client) Track(ctx context.Context, receipt string) (*api.TrackResponse, error) {
	return c.TrackProven(ctx, receipt, TrackProof{})
}

// TrackProven asks for the progress of a submission with proof that the
// resident asking owns it. An unknown receipt and a wrong proof both give
// an *APIError with status 404.
func (c *Client) TrackProven(ctx context.Context, receipt string, p TrackProof) (*api.TrackResponse, error) {
	hdr := map[string]string{}
	if p.LookupCode != "" {
		hdr[api.HeaderLookupCode] = api.NormalizeLookupCode(p.LookupCode)
	}
	if p.IDNumber != "" {
		hdr[api.HeaderHolderProof] = api.HolderProof(p.IDNumber, receipt)
	}
	var out api.TrackResponse
	_, err := c.do(ctx, call{
		method: http.MethodGet, path: api.PathTrack + url.PathEscape(receipt), header: hdr,
		success: okStatus(200),
		decode:  decodeJSON(&out, nil),
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Rate sends a rating; the rating UUID is its Idempotency-Key.
func (c *Client) Rate(ctx context.Context, r *api.Rating) error {
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("client: encode rating: %w", err)
	}
	var out api.RatingResponse
	_, err = c.do(ctx, call{
		method: http.MethodPost, path: api.PathRatings, json: body,
		header:  map[string]string{api.HeaderIdempotencyKey: r.UUID},
		success: okStatus(200, 201),
		decode: decodeJSON(&out, func(x *api.RatingResponse) error {
			if x.UUID != r.UUID {
				return fmt.Errorf("answer is for rating %q", x.UUID)
			}
			return nil
		}),
	})
	return err
}

// Heartbeat reports the kiosk's health. The platform's ServerTime in the
// answer sets the signing clock's offset.
func (c *Client) Heartbeat(ctx context.Context, hb *api.Heartbeat) (*api.HeartbeatResponse, error) {
	body, err := json.Marshal(hb)
	if err != nil {
		return nil, fmt.Errorf("client: encode heartbeat: %w", err)
	}
	var out api.HeartbeatResponse
	t0 := c.cfg.Clock()
	_, err = c.do(ctx, call{
		method: http.MethodPost, path: api.PathHeartbeat, json: body,
		success: okStatus(200, 201, 204),
		decode: func(resp *http.Response) error {
			if resp.StatusCode == http.StatusNoContent {
				return nil
			}
			return decodeJSON(&out, nil)(resp)
		},
	})
	if err != nil {
		return nil, err
	}
	if !out.ServerTime.IsZero() {
		// The platform stamped its clock somewhere between t0 and t1.
		t1 := c.cfg.Clock()
		c.SetClockOffset(out.ServerTime.Sub(t0.Add(t1.Sub(t0) / 2)))
	}
	return &out, nil
}

// ClockOffset is the platform's time minus the kiosk's, as last learned.
func (c *Client) ClockOffset() time.Duration {
	c.clock.mu.Lock()
	defer c.clock.mu.Unlock()
	return c.clock.d
}

// countingReaderAt counts the bytes the transport actually read, which is
// what went toward the wire (a PATCH refused after Expect: 100-continue
// reads nothing).
type countingReaderAt struct {
	r io.ReaderAt
	n atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

// expectAbove is the PATCH size above which the client asks for "100
// Continue" before sending the body. Waiting for it costs a round trip per
// PATCH (100–300 ms on a village 4G link, more than sending a 300 KB scan
// takes at a few MB/s), and a refusal is rare on a first upload (409 for a
// page shared with an earlier submission, or credentials): up to 1 MiB is
// cheaper to risk sending for nothing than to wait for on every blob.
const expectAbove = 1 << 20
