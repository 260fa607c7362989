package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"onedoor/internal/testdate"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"onedoor/sync/api"
	"onedoor/sync/faultproxy"
)

const (
	testKiosk = "K001"
	testToken = "3f1c0a9b8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170605f4e3"
)

// fakePlatform is a small, strict stand-in for the platform: it verifies
// every signature with api.Verify, rejects reused nonces, implements the
// blob HEAD/PATCH semantics (keeping partial bodies) and lets a test script
// the answers of POST /submissions.
type fakePlatform struct {
	t  *testing.T
	mu sync.Mutex

	blobLocks sync.Map // sha -> *sync.Mutex: one PATCH per blob at a time, like tusd
	nonces    map[string]bool
	authFails int
	blobs     map[string][]byte
	complete  map[string]bool
	chunked   int   // PATCH requests that arrived without Content-Length
	received  int64 // PATCH body bytes that reached the handler
	heads     int   // HEAD requests for blobs

	submitScript []func(w http.ResponseWriter) bool // true: handled
	submits      int
	committed    map[string]api.SubmissionResponse
	contentLens  []int64
}

func newFakePlatform(t *testing.T) (*fakePlatform, *httptest.Server) {
	f := &fakePlatform{t: t, nonces: map[string]bool{}, blobs: map[string][]byte{}, complete: map[string]bool{}, committed: map[string]api.SubmissionResponse{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func writeErr(w http.ResponseWriter, status int, code, msg string, missing ...string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(api.ErrorResponse{Code: code, Message: msg, MissingBlobs: missing})
}

func (f *fakePlatform) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body []byte
	if r.Method != http.MethodPatch {
		body, _ = io.ReadAll(r.Body)
	}
	sum := ""
	if r.Method != http.MethodPatch {
		sum = api.BodySHA256(body)
	}
	a, err := api.Verify(r, testToken, sum, time.Now())
	f.mu.Lock()
	if err == nil && f.nonces[a.Nonce] {
		err = api.ErrReplay
	}
	if err == nil {
		f.nonces[a.Nonce] = true
	}
	if err != nil {
		f.authFails++
	}
	f.mu.Unlock()
	if err != nil {
		writeErr(w, 401, api.CodeUnauthorized, err.Error())
		return
	}
	switch {
	case strings.HasPrefix(r.URL.Path, api.PathBlobs):
		f.blob(w, r, strings.TrimPrefix(r.URL.Path, api.PathBlobs))
	case r.URL.Path == api.PathSubmissions && r.Method == http.MethodPost:
		f.submit(w, r, body)
	default:
		writeErr(w, 404, api.CodeNotFound, "no such endpoint")
	}
}

func (f *fakePlatform) blob(w http.ResponseWriter, r *http.Request, sha string) {
	switch r.Method {
	case http.MethodHead:
		f.mu.Lock()
		f.heads++
		b, ok := f.blobs[sha]
		f.mu.Unlock()
		if !ok {
			w.WriteHeader(404)
			return
		}
		w.Header().Set(api.HeaderUploadOffset, strconv.Itoa(len(b)))
		w.WriteHeader(200)
	case http.MethodPatch:
		l, _ := f.blobLocks.LoadOrStore(sha, &sync.Mutex{})
		l.(*sync.Mutex).Lock()
		defer l.(*sync.Mutex).Unlock()
		off, _ := strconv.ParseInt(r.Header.Get(api.HeaderUploadOffset), 10, 64)
		total, _ := strconv.ParseInt(r.Header.Get(api.HeaderUploadLength), 10, 64)
		f.mu.Lock()
		if r.ContentLength < 0 {
			f.chunked++
		}
		f.contentLens = append(f.contentLens, r.ContentLength)
		cur := int64(len(f.blobs[sha]))
		f.mu.Unlock()
		if off != cur {
			w.Header().Set(api.HeaderUploadOffset, strconv.FormatInt(cur, 10))
			writeErr(w, 409, api.CodeOffsetMismatch, "offset mismatch")
			return
		}
		buf := make([]byte, 8<<10)
		for {
			n, err := r.Body.Read(buf)
			if n > 0 {
				// Append and, on the last byte, verify under one lock so a
				// HEAD never reports a complete blob that is unverified.
				f.mu.Lock()
				f.received += int64(n)
				f.blobs[sha] = append(f.blobs[sha], buf[:n]...)
				if int64(len(f.blobs[sha])) == total {
					s := sha256.Sum256(f.blobs[sha])
					if hex.EncodeToString(s[:]) != sha {
						delete(f.blobs, sha)
						f.mu.Unlock()
						writeErr(w, 422, api.CodeHashMismatch, "hash mismatch")
						return
					}
					f.complete[sha] = true
				}
				f.mu.Unlock()
			}
			if err != nil {
				break
			}
		}
		f.mu.Lock()
		b := f.blobs[sha]
		f.mu.Unlock()
		w.Header().Set(api.HeaderUploadOffset, strconv.Itoa(len(b)))
		w.WriteHeader(204)
	}
}

func (f *fakePlatform) submit(w http.ResponseWriter, r *http.Request, body []byte) {
	f.mu.Lock()
	f.submits++
	var script func(http.ResponseWriter) bool
	if len(f.submitScript) > 0 {
		script = f.submitScript[0]
		f.submitScript = f.submitScript[1:]
	}
	f.mu.Unlock()
	if script != nil && script(w) {
		return
	}
	var req api.SubmissionRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeErr(w, 400, api.CodeBadRequest, "bad json")
		return
	}
	if r.Header.Get(api.HeaderIdempotencyKey) != req.UUID {
		writeErr(w, 400, api.CodeBadRequest, "idempotency key must be the uuid")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	resp, ok := f.committed[req.UUID]
	if !ok {
		resp = api.SubmissionResponse{CaseNumber: fmt.Sprintf("C-%d", len(f.committed)+1), Receipt: req.Receipt, UUID: req.UUID, Status: api.StatusReceived}
		f.committed[req.UUID] = resp
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(201)
	json.NewEncoder(w).Encode(resp)
}

func newTestClient(t *testing.T, base string, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{BaseURL: base, KioskID: testKiosk, Token: testToken,
		RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond, IdleTimeout: 2 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sampleSubmission(uuid string) *api.SubmissionRequest {
	return &api.SubmissionRequest{UUID: uuid, Receipt: "K001-20261125-0001", KioskID: testKiosk, ItemID: "hukou-move", ItemVersion: "3",
		CreatedAt: testdate.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC),
		Applicant: api.ApplicantData{Name: "测试", IDNumber: "11010519491231002X"}}
}

func respond(status int, header map[string]string, body string) func(http.ResponseWriter) bool {
	return func(w http.ResponseWriter) bool {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
		return true
	}
}

func TestSubmitOutcomes(t *testing.T) {
	html := map[string]string{"Content-Type": "text/html"}
	jsonHdr := map[string]string{"Content-Type": "application/json"}
	errBody := func(code string) string {
		b, _ := json.Marshal(api.ErrorResponse{Code: code, Message: "x", MissingBlobs: []string{strings.Repeat("a", 64)}})
		return string(b)
	}
	tests := []struct {
		name      string
		script    []func(http.ResponseWriter) bool
		wantErr   error
		permanent bool
		submits   int
	}{
		{name: "plain success", submits: 1},
		{name: "5xx burst then success", script: []func(http.ResponseWriter) bool{
			respond(503, nil, "busy"), respond(500, nil, "oops"), respond(502, nil, "bad gw")}, submits: 4},
		{name: "408 and 425 are retried", script: []func(http.ResponseWriter) bool{
			respond(408, nil, ""), respond(425, nil, "")}, submits: 3},
		{name: "429 with Retry-After then success", script: []func(http.ResponseWriter) bool{
			respond(429, map[string]string{"Retry-After": "0"}, "")}, submits: 2},
		{name: "HTML 200 from a captive portal is retried", script: []func(http.ResponseWriter) bool{
			respond(200, html, faultproxy.HTMLPage)}, submits: 2},
		{name: "garbage JSON is retried", script: []func(http.ResponseWriter) bool{
			respond(201, jsonHdr, `{"case_number":`)}, submits: 2},
		{name: "validation failure is permanent", script: []func(http.ResponseWriter) bool{
			respond(422, jsonHdr, errBody(api.CodeValidation))}, wantErr: ErrRejected, permanent: true, submits: 1},
		{name: "missing blobs is not permanent", script: []func(http.ResponseWriter) bool{
			respond(422, jsonHdr, errBody(api.CodeMissingBlobs))}, wantErr: ErrMissingBlobs, submits: 1},
		{name: "idempotency conflict", script: []func(http.ResponseWriter) bool{
			respond(409, jsonHdr, errBody(api.CodeIdempotencyConflict))}, wantErr: ErrConflict, submits: 1},
		{name: "501 is not retried", script: []func(http.ResponseWriter) bool{
			respond(501, jsonHdr, errBody(api.CodeInternal))}, wantErr: ErrUnavailable, submits: 1},
		{name: "5xx outlasting the retries", script: []func(http.ResponseWriter) bool{
			respond(503, nil, ""), respond(503, nil, ""), respond(503, nil, ""), respond(503, nil, "")}, wantErr: ErrUnavailable, submits: 4},
		{name: "HTML 403 from a proxy is not a verdict", script: []func(http.ResponseWriter) bool{
			respond(403, html, faultproxy.HTMLPage), respond(403, html, faultproxy.HTMLPage),
			respond(403, html, faultproxy.HTMLPage), respond(403, html, faultproxy.HTMLPage)}, wantErr: ErrBadResponse, submits: 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFakePlatform(t)
			f.submitScript = tc.script
			c := newTestClient(t, srv.URL, nil)
			resp, err := c.Submit(context.Background(), sampleSubmission("7d0f4c1e-6a52-4c43-9a0e-1d2b3c4d5e6f"))
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Submit: %v", err)
				}
				if resp.CaseNumber != "C-1" || resp.UUID != "7d0f4c1e-6a52-4c43-9a0e-1d2b3c4d5e6f" {
					t.Fatalf("response %+v", resp)
				}
			} else if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if IsPermanent(err) != tc.permanent {
				t.Fatalf("IsPermanent(%v) = %v", err, IsPermanent(err))
			}
			if f.submits != tc.submits {
				t.Fatalf("platform saw %d submits, want %d", f.submits, tc.submits)
			}
			if f.authFails != 0 {
				t.Fatalf("%d requests failed authentication: a retry reused a nonce or was not re-signed", f.authFails)
			}
		})
	}
}

func TestMissingBlobsListed(t *testing.T) {
	f, srv := newFakePlatform(t)
	missing := strings.Repeat("b", 64)
	f.submitScript = []func(http.ResponseWriter) bool{func(w http.ResponseWriter) bool {
		writeErr(w, 422, api.CodeMissingBlobs, "missing", missing)
		return true
	}}
	c := newTestClient(t, srv.URL, nil)
	_, err := c.Submit(context.Background(), sampleSubmission("7d0f4c1e-6a52-4c43-9a0e-1d2b3c4d5e6f"))
	var ae *APIError
	if !errors.As(err, &ae) || len(ae.MissingBlobs) != 1 || ae.MissingBlobs[0] != missing {
		t.Fatalf("err = %#v", err)
	}
}

func TestRetryAfterHonouredAndClamped(t *testing.T) {
	f, srv := newFakePlatform(t)
	f.submitScript = []func(http.ResponseWriter) bool{
		respond(429, map[string]string{"Retry-After": "3600"}, ""),
	}
	c := newTestClient(t, srv.URL, func(c *Config) { c.MaxRetryAfter = 20 * time.Millisecond })
	if _, err := c.Submit(context.Background(), sampleSubmission("7d0f4c1e-6a52-4c43-9a0e-1d2b3c4d5e6f")); err != nil {
		t.Fatalf("Submit: %v", err)
	}
	// The wait itself is checked in TestBackoffWait without a clock.
	if f.submits != 2 {
		t.Fatalf("submits = %d", f.submits)
	}
}

func TestRetryAfterReportedWhenRetriesRunOut(t *testing.T) {
	f, srv := newFakePlatform(t)
	for i := 0; i < 4; i++ {
		f.submitScript = append(f.submitScript, respond(429, map[string]string{"Retry-After": "0"}, ""))
	}
	f.submitScript[3] = respond(429, map[string]string{"Retry-After": "90"}, "")
	c := newTestClient(t, srv.URL, nil)
	_, err := c.Submit(context.Background(), sampleSubmission("7d0f4c1e-6a52-4c43-9a0e-1d2b3c4d5e6f"))
	if !errors.Is(err, ErrUnavailable) || RetryAfter(err) != 90*time.Second {
		t.Fatalf("err = %v, RetryAfter = %v", err, RetryAfter(err))
	}
}

func TestRetryableStatuses(t *testing.T) {
	tests := map[int]bool{
		200: false, 400: false, 401: false, 403: false, 404: false, 409: false, 413: false, 422: false,
		408: true, 425: true, 429: true, 500: true, 501: false, 502: true, 503: true, 504: true, 599: true,
	}
	for status, want := range tests {
		if got := retryable(status); got != want {
			t.Errorf("retryable(%d) = %v, want %v", status, got, want)
		}
	}
}

func TestBackoffWait(t *testing.T) {
	now := testdate.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	b := backoff{maxRetryAfter: time.Minute, now: func() time.Time { return now }, rand: func() float64 { return 0.999 }}
	mk := func(status int, ra string) *http.Response {
		h := http.Header{}
		if ra != "" {
			h.Set("Retry-After", ra)
		}
		return &http.Response{StatusCode: status, Header: h}
	}
	tests := []struct {
		name    string
		attempt int
		resp    *http.Response
		lo, hi  time.Duration
	}{
		{"first retry", 0, nil, 50 * time.Millisecond, 100 * time.Millisecond},
		{"third retry", 2, mk(503, ""), 200 * time.Millisecond, 400 * time.Millisecond},
		{"capped", 30, nil, 2500 * time.Millisecond, 5 * time.Second},
		{"retry-after seconds", 0, mk(429, "7"), 7 * time.Second, 7 * time.Second},
		{"retry-after on 503", 0, mk(503, "2"), 2 * time.Second, 2 * time.Second},
		{"retry-after clamped", 0, mk(429, "86400"), time.Minute, time.Minute},
		{"retry-after date", 0, mk(429, now.Add(30*time.Second).Format(http.TimeFormat)), 30 * time.Second, 30 * time.Second},
		{"retry-after date in the past", 0, mk(429, now.Add(-time.Hour).Format(http.TimeFormat)), 0, 0},
		{"retry-after ignored on 500", 0, mk(500, "60"), 50 * time.Millisecond, 100 * time.Millisecond},
		{"unparsable retry-after", 0, mk(429, "soon"), 50 * time.Millisecond, 100 * time.Millisecond},
	}
	for _, tc := range tests {
		got := b.wait(100*time.Millisecond, 5*time.Second, tc.attempt, tc.resp)
		if got < tc.lo || got > tc.hi {
			t.Errorf("%s: wait = %v, want in [%v, %v]", tc.name, got, tc.lo, tc.hi)
		}
	}
}

func TestJitterSpreads(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[time.Duration]bool{}
	for i := 0; i < 100; i++ {
		d := Jitter(time.Second, r.Float64)
		if d < 500*time.Millisecond || d > time.Second {
			t.Fatalf("jitter %v outside [0.5s, 1s]", d)
		}
		seen[d] = true
	}
	if len(seen) < 50 {
		t.Fatalf("only %d distinct waits in 100: not jittered", len(seen))
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := testdate.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false}, {"0", 0, true}, {"120", 2 * time.Minute, true}, {"-5", 0, false},
		{"abc", 0, false}, {" 3 ", 3 * time.Second, true},
		{now.Add(time.Minute).Format(http.TimeFormat), time.Minute, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"99999999999999999999", 0, false},
	}
	for _, tc := range tests {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v,%v want %v,%v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func blobOf(n int, seed uint64) ([]byte, string) {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	s := sha256.Sum256(b)
	return b, hex.EncodeToString(s[:])
}

func TestUploadBlobStreamsWithContentLength(t *testing.T) {
	f, srv := newFakePlatform(t)
	data, sha := blobOf(300<<10, 1)
	tests := []struct {
		name  string
		chunk int64
	}{
		{"whole blob in one PATCH", 0},
		{"100 KiB chunks", 100 << 10},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.mu.Lock()
			f.contentLens = nil
			f.mu.Unlock()
			b := append([]byte{byte(i)}, data...)
			s := sha256.Sum256(b)
			sha := hex.EncodeToString(s[:])
			c := newTestClient(t, srv.URL, func(c *Config) { c.ChunkSize = tc.chunk })
			var last int64
			st, err := c.UploadBlob(context.Background(), sha, int64(len(b)), bytes.NewReader(b), func(o int64) { last = o })
			if err != nil {
				t.Fatal(err)
			}
			if !f.complete[sha] || last != int64(len(b)) || st.Sent != int64(len(b)) {
				t.Fatalf("complete=%v last=%d stats=%+v", f.complete[sha], last, st)
			}
			var want []int64
			for left := int64(len(b)); left > 0; {
				n := left
				if tc.chunk > 0 && n > tc.chunk {
					n = tc.chunk
				}
				want = append(want, n)
				left -= n
			}
			if fmt.Sprint(f.contentLens) != fmt.Sprint(want) {
				t.Fatalf("Content-Length of PATCHes = %v, want %v", f.contentLens, want)
			}
		})
	}
	// Uploading a blob the platform already has costs one HEAD.
	c := newTestClient(t, srv.URL, nil)
	c.UploadBlob(context.Background(), sha, int64(len(data)), bytes.NewReader(data), nil)
	st, err := c.UploadBlob(context.Background(), sha, int64(len(data)), bytes.NewReader(data), nil)
	if err != nil || st.Attempts != 0 || st.StartedAt != int64(len(data)) {
		t.Fatalf("second upload: %+v %v", st, err)
	}
	if f.chunked != 0 {
		t.Fatalf("%d PATCHes were sent chunked", f.chunked)
	}
}

// UploadNewBlob guesses offset 0 instead of asking; a wrong guess costs a
// refused PATCH and must neither lose nor duplicate bytes.
func TestUploadNewBlobSkipsHead(t *testing.T) {
	const size = 300 << 10
	tests := []struct {
		name        string
		held        int64 // bytes the platform already has
		wantPatches int
	}{
		{"never seen", 0, 1},
		{"partly there", 100 << 10, 2},
		{"complete already", size, 1},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFakePlatform(t)
			data, sha := blobOf(size, uint64(10+i))
			if tc.held > 0 {
				f.blobs[sha] = append([]byte(nil), data[:tc.held]...)
				f.complete[sha] = tc.held == size
			}
			c := newTestClient(t, srv.URL, nil)
			st, err := c.UploadNewBlob(context.Background(), sha, size, bytes.NewReader(data), nil)
			if err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.heads != 0 {
				t.Errorf("%d HEADs, want none", f.heads)
			}
			if !f.complete[sha] || !bytes.Equal(f.blobs[sha], data) {
				t.Fatalf("platform holds %d bytes, complete=%v", len(f.blobs[sha]), f.complete[sha])
			}
			if f.received != size-tc.held {
				t.Errorf("platform received %d body bytes, want %d", f.received, size-tc.held)
			}
			if st.Attempts != tc.wantPatches || st.StartedAt != tc.held {
				t.Errorf("stats %+v, want %d PATCHes starting at %d", st, tc.wantPatches, tc.held)
			}
		})
	}
}

func TestUploadBlobResumesAfterReset(t *testing.T) {
	f, srv := newFakePlatform(t)
	px, err := faultproxy.New(strings.TrimPrefix(srv.URL, "http://"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	data, sha := blobOf(1<<20, 2)
	rule := px.Add(&faultproxy.Rule{Match: "PATCH ", Times: 2, Action: faultproxy.Action{Kind: faultproxy.ResetAfter, After: 300 << 10}})
	c := newTestClient(t, px.URL(), nil)
	st, err := c.UploadBlob(context.Background(), sha, int64(len(data)), bytes.NewReader(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if rule.Hits() != 2 || !f.complete[sha] {
		t.Fatalf("hits=%d complete=%v", rule.Hits(), f.complete[sha])
	}
	if !bytes.Equal(f.blobs[sha], data) {
		t.Fatal("platform holds different bytes")
	}
	// Two cuts at 300 KiB of each request. Restarting from zero would put
	// 300K+300K+1M on the link; resuming puts every byte across exactly
	// once (the client re-reads what sat in its own socket buffers).
	if st.StartedAt != 0 || f.received != int64(len(data)) {
		t.Fatalf("platform received %d body bytes for a %d-byte blob (stats %+v)", f.received, len(data), st)
	}
}

func TestStalledConnectionIsAbandoned(t *testing.T) {
	f, srv := newFakePlatform(t)
	px, err := faultproxy.New(strings.TrimPrefix(srv.URL, "http://"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	rule := px.Add(&faultproxy.Rule{Match: "POST /api/v1/submissions", Times: 1, Action: faultproxy.Action{Kind: faultproxy.Stall}})
	c := newTestClient(t, px.URL(), func(c *Config) { c.IdleTimeout = 400 * time.Millisecond })
	resp, err := c.Submit(context.Background(), sampleSubmission("7d0f4c1e-6a52-4c43-9a0e-1d2b3c4d5e6f"))
	if err != nil {
		t.Fatal(err)
	}
	if rule.Hits() != 1 || f.submits != 1 || resp.CaseNumber != "C-1" {
		t.Fatalf("hits=%d submits=%d resp=%+v", rule.Hits(), f.submits, resp)
	}
	// With every attempt stalled the call fails with ErrStalled inside.
	px.Add(&faultproxy.Rule{Match: "POST /api/v1/submissions", Action: faultproxy.Action{Kind: faultproxy.Stall}})
	px.ResetAll()
	_, err = c.Submit(context.Background(), sampleSubmission("7d0f4c1e-6a52-4c43-9a0e-1d2b3c4d5e6f"))
	if !errors.Is(err, ErrStalled) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
}

func TestLostResponseIsRetriedAndDeduplicated(t *testing.T) {
	f, srv := newFakePlatform(t)
	px, err := faultproxy.New(strings.TrimPrefix(srv.URL, "http://"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	px.Add(&faultproxy.Rule{Match: "POST /api/v1/submissions", Times: 2, Action: faultproxy.Action{Kind: faultproxy.LoseResponse}})
	c := newTestClient(t, px.URL(), nil)
	resp, err := c.Submit(context.Background(), sampleSubmission("7d0f4c1e-6a52-4c43-9a0e-1d2b3c4d5e6f"))
	if err != nil {
		t.Fatal(err)
	}
	if f.submits != 3 || len(f.committed) != 1 || resp.CaseNumber != "C-1" {
		t.Fatalf("submits=%d committed=%d resp=%+v", f.submits, len(f.committed), resp)
	}
	if f.authFails != 0 {
		t.Fatalf("a retry was refused as a replay")
	}
}

func TestAuthFailureIsNotAVerdictOnTheItem(t *testing.T) {
	f, srv := newFakePlatform(t)
	c, err := New(Config{BaseURL: srv.URL, KioskID: testKiosk, Token: "wrong", RetryWaitMin: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Submit(context.Background(), sampleSubmission("7d0f4c1e-6a52-4c43-9a0e-1d2b3c4d5e6f"))
	if !errors.Is(err, ErrUnauthorized) || IsPermanent(err) {
		t.Fatalf("err = %v", err)
	}
	if f.authFails != 2 {
		t.Fatalf("%d refused attempts, want 2 (one fresh retry, then the verdict)", f.authFails)
	}
	if _, err := c.BlobOffset(context.Background(), strings.Repeat("c", 64)); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("HEAD err = %v", err)
	}
}

func TestClockOffsetSignsWithPlatformTime(t *testing.T) {
	_, srv := newFakePlatform(t)
	skewed := func() time.Time { return time.Now().Add(-time.Hour) }
	c := newTestClient(t, srv.URL, func(c *Config) { c.Clock = skewed })
	c.SetClockOffset(time.Hour)
	if _, err := c.BlobOffset(context.Background(), strings.Repeat("c", 64)); err != nil {
		t.Fatalf("corrected clock: %v", err)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	tests := []Config{
		{BaseURL: "http://x", Token: "t"},
		{BaseURL: "http://x", KioskID: "k"},
		{BaseURL: "ftp://x", KioskID: "k", Token: "t"},
		{BaseURL: "no-scheme", KioskID: "k", Token: "t"},
	}
	for _, cfg := range tests {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

func TestLoggerNeverPrintsSecrets(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f, srv := newFakePlatform(t)
	f.submitScript = []func(http.ResponseWriter) bool{respond(503, nil, "")}
	c := newTestClient(t, srv.URL, func(c *Config) { c.Logger = log })
	c.Submit(context.Background(), sampleSubmission("7d0f4c1e-6a52-4c43-9a0e-1d2b3c4d5e6f"))
	c.Statuses(context.Background(), "cursor-secret-query")
	l := leveledLogger{log: log, r: redactor{secrets: []string{testToken}}}
	l.Error("request failed", "error", errors.New("POST http://x/y?token="+testToken+" 11010519491231002X"), "url", "http://x/y?since=abc")
	out := buf.String()
	if !strings.Contains(out, "retrying request") {
		t.Fatalf("expected retry log lines, got:\n%s", out)
	}
	for _, bad := range []string{testToken, "cursor-secret-query", "11010519491231002X", "since=abc"} {
		if strings.Contains(out, bad) {
			t.Fatalf("log contains %q:\n%s", bad, out)
		}
	}
	if !strings.Contains(out, "1101**********002X") {
		t.Fatalf("ID number not masked:\n%s", out)
	}
}

func TestThrottleAccounting(t *testing.T) {
	now := testdate.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	th := NewThrottle(4096)
	th.now = func() time.Time { return now }
	ctx := context.Background()
	if th.burst != 1024 {
		t.Fatalf("burst %d", th.burst)
	}
	if err := th.WaitN(ctx, 1024); err != nil { // the initial burst
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := th.WaitN(cctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("empty bucket with cancelled ctx: %v", err)
	}
	now = now.Add(250 * time.Millisecond) // refills 1024 bytes; the cancelled wait reserved nothing
	if err := th.WaitN(ctx, 1024); err != nil {
		t.Fatalf("refilled bucket: %v", err)
	}
}

func TestClockLearnedFromA401(t *testing.T) {
	_, srv := newFakePlatform(t)
	skewed := func() time.Time { return time.Now().Add(-3 * time.Hour) }
	c := newTestClient(t, srv.URL, func(c *Config) { c.Clock = skewed })
	// The first attempt's 401 carries the platform's Date; the retry is
	// signed with the corrected clock and goes through.
	if _, err := c.BlobOffset(context.Background(), strings.Repeat("c", 64)); err != nil {
		t.Fatalf("skewed clock: %v", err)
	}
	if off := c.ClockOffset(); off < 3*time.Hour-5*time.Second || off > 3*time.Hour+5*time.Second {
		t.Fatalf("learned offset %v", off)
	}
}

func TestRefusedReplayIsRetriedWithAFreshNonce(t *testing.T) {
	f, srv := newFakePlatform(t)
	var mu sync.Mutex
	calls := 0
	nonce := func() (string, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls <= 2 { // the second request repeats the first one's nonce
			return strings.Repeat("ab", 16), nil
		}
		return api.NewNonce()
	}
	c := newTestClient(t, srv.URL, func(c *Config) { c.Nonce = nonce })
	for i := 0; i < 2; i++ {
		if _, err := c.BlobOffset(context.Background(), strings.Repeat("c", 64)); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if f.authFails != 1 || calls != 3 {
		t.Fatalf("auth failures %d, nonces drawn %d", f.authFails, calls)
	}
}

func TestThrottleCapsUpload(t *testing.T) {
	f, srv := newFakePlatform(t)
	data, sha := blobOf(600<<10, 9)
	c := newTestClient(t, srv.URL, func(c *Config) { c.Throttle = NewThrottle(512 << 10) })
	start := time.Now()
	if _, err := c.UploadBlob(context.Background(), sha, int64(len(data)), bytes.NewReader(data), nil); err != nil {
		t.Fatal(err)
	}
	// 600 KiB at 512 KiB/s with a 128 KiB burst cannot take less than
	// about 0.92 s. A lower bound only: a slow machine cannot fail it.
	if el := time.Since(start); el < 800*time.Millisecond {
		t.Fatalf("uploaded in %v: the cap was not applied", el)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.complete[sha] {
		t.Fatal("blob incomplete")
	}
}

// TestBodyDrainingSlowlyIsNotAStall: on a slow link the kernel takes a
// whole chunk at once and sends it for seconds, while nothing moves that
// the client can see; the stall watchdog must wait for that, not cut a
// healthy upload (it did, with a 1 MiB batch on a 1 Mbit/s link).
func TestBodyDrainingSlowlyIsNotAStall(t *testing.T) {
	f, srv := newFakePlatform(t)
	px, err := faultproxy.New(strings.TrimPrefix(srv.URL, "http://"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	px.SetRate(96 << 10) // 256 KiB take about 2.7 s
	c := newTestClient(t, px.URL(), func(c *Config) { c.IdleTimeout = 300 * time.Millisecond; c.RetryMax = -1 })
	data := bytes.Repeat([]byte("slow link "), 256<<10/10)
	sum := sha256.Sum256(data)
	sha := hex.EncodeToString(sum[:])
	st, err := c.UploadNewBlob(context.Background(), sha, int64(len(data)), bytes.NewReader(data), nil)
	if err != nil || st.Attempts != 1 {
		t.Fatalf("upload over a slow link: %v after %d attempts", err, st.Attempts)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.complete[sha] {
		t.Fatal("blob not complete on the platform")
	}
}
