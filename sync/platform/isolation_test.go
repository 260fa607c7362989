package platform_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"onedoor/sync/api"
	"onedoor/sync/client"
	"onedoor/sync/platform"
)

// reconfigure restarts e's HTTP server over the same store and blobs with
// a config changed by f (limits, clock).
func (e *env) reconfigure(f func(*platform.Config)) {
	e.t.Helper()
	e.http.Close()
	cfg := platform.Config{Store: e.store, Blobs: e.blobs, Logger: slog.New(slog.NewTextHandler(e.logs, nil))}
	f(&cfg)
	srv, err := platform.New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.server, e.http = srv, httptest.NewServer(srv)
}

// testClock is an injected clock tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func track(e *env, kiosk, receipt string, hdr map[string]string) resp {
	return e.do(req{method: "GET", path: api.PathTrack + receipt, kiosk: kiosk, header: hdr})
}

// TestTrackNeedsProof: a kiosk learns a case's progress only with the
// lookup code printed on the receipt or proof of the holder's card; an
// unproven lookup of a real receipt looks exactly like an unknown one, and
// staff notes reach kiosks masked.
func TestTrackNeedsProof(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1", "K2")
	code, err := api.NewLookupCode()
	if err != nil {
		t.Fatal(err)
	}
	s := newSubmission("K1", 1)
	s.LookupCodeSHA256 = api.LookupCodeSHA256(code)
	if r := e.submit("K1", s); r.code != http.StatusCreated {
		t.Fatalf("submit: %d %s", r.code, r.body)
	}
	if _, err := e.store.Decide(context.Background(), s.UUID, api.StatusReturned, "请补充材料，身份证 "+testID+"，电话 13800000000", "clerk", time.Now()); err != nil {
		t.Fatal(err)
	}
	other, _ := api.NewLookupCode()
	unknown := track(e, "K2", "K1-20260101-0999", nil)
	for _, tc := range []struct {
		name string
		hdr  map[string]string
		ok   bool
	}{
		{"no proof", nil, false},
		{"wrong code", map[string]string{api.HeaderLookupCode: other}, false},
		{"malformed code", map[string]string{api.HeaderLookupCode: "x"}, false},
		{"another receipt's holder proof", map[string]string{api.HeaderHolderProof: api.HolderProof(testID, "K1-20260101-0002")}, false},
		{"code as typed", map[string]string{api.HeaderLookupCode: strings.ToLower(api.FormatLookupCode(code))}, true},
		{"holder proof", map[string]string{api.HeaderHolderProof: api.HolderProof(testID, s.Receipt)}, true},
	} {
		r := track(e, "K2", s.Receipt, tc.hdr)
		if !tc.ok {
			if r.code != http.StatusNotFound || string(r.body) != string(unknown.body) {
				t.Errorf("%s: %d %s, want the unknown receipt's answer %s", tc.name, r.code, r.body, unknown.body)
			}
			continue
		}
		var tr api.TrackResponse
		if err := json.Unmarshal(r.body, &tr); r.code != http.StatusOK || err != nil {
			t.Fatalf("%s: %d %s", tc.name, r.code, r.body)
		}
		body := string(r.body)
		if strings.Contains(body, testID) || strings.Contains(body, "13800000000") || !strings.Contains(body, "4419**********1231") {
			t.Errorf("%s: note not masked: %s", tc.name, body)
		}
	}
	// The statuses feed masks notes too.
	var sr api.StatusesResponse
	r := e.do(req{method: "GET", path: api.PathStatuses, kiosk: "K1"})
	if err := json.Unmarshal(r.body, &sr); err != nil || strings.Contains(string(r.body), testID) || strings.Contains(string(r.body), "13800000000") {
		t.Fatalf("statuses: %s %v", r.body, err)
	}
}

// TestTrackRateLimited: unproven lookups are limited per kiosk.
func TestTrackRateLimited(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1", "K2")
	s := newSubmission("K1", 1)
	if r := e.submit("K1", s); r.code != http.StatusCreated {
		t.Fatalf("submit: %d %s", r.code, r.body)
	}
	for i := range platform.DefaultLookupFailLimit {
		if r := track(e, "K2", fmt.Sprintf("K1-20260101-%04d", i+2), nil); r.code != http.StatusNotFound {
			t.Fatalf("guess %d: %d %s", i, r.code, r.body)
		}
	}
	proof := map[string]string{api.HeaderHolderProof: api.HolderProof(testID, s.Receipt)}
	r := track(e, "K2", s.Receipt, proof)
	if r.code != http.StatusTooManyRequests || r.errCode(t).Code != api.CodeRateLimited || r.header.Get("Retry-After") == "" {
		t.Fatalf("lookup after %d guesses = %d %v %s", platform.DefaultLookupFailLimit, r.code, r.header, r.body)
	}
	if r := track(e, "K1", s.Receipt, proof); r.code != http.StatusOK {
		t.Fatalf("another kiosk's lookup = %d %s", r.code, r.body)
	}
}

// TestReceiptCarriesKioskID: a kiosk cannot take another kiosk's receipt
// numbers (the real owner would then get a permanent 409).
func TestReceiptCarriesKioskID(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1", "K2")
	stolen := newSubmission("K2", 1)
	stolen.Receipt = "K1-20260101-0001"
	if r := e.submit("K2", stolen); r.code != http.StatusUnprocessableEntity || !strings.Contains(r.errCode(t).Message, "receipt") {
		t.Fatalf("submission with K1's receipt from K2 = %d %s", r.code, r.body)
	}
	if r := e.submit("K1", newSubmission("K1", 1)); r.code != http.StatusCreated {
		t.Fatalf("K1's own receipt = %d %s", r.code, r.body)
	}
}

// TestRatingsBoundToKiosk: a rating names a receipt that exists and that
// the rating kiosk issued or looked up with proof.
func TestRatingsBoundToKiosk(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1", "K2")
	s := newSubmission("K1", 1)
	if r := e.submit("K1", s); r.code != http.StatusCreated {
		t.Fatalf("submit: %d %s", r.code, r.body)
	}
	n := 0
	rate := func(kiosk, receipt string) resp {
		n++
		rt := api.Rating{UUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", n), Receipt: receipt, Level: 1, At: time.Now().UTC()}
		b, _ := json.Marshal(rt)
		return e.do(req{method: "POST", path: api.PathRatings, body: b, kiosk: kiosk, header: map[string]string{api.HeaderIdempotencyKey: rt.UUID}})
	}
	if r := rate("K2", s.Receipt); r.code != http.StatusUnprocessableEntity {
		t.Fatalf("K2 rates K1's receipt = %d %s", r.code, r.body)
	}
	if r := rate("K2", ""); r.code != http.StatusUnprocessableEntity {
		t.Fatalf("rating without receipt = %d %s", r.code, r.body)
	}
	if r := rate("K1", "K1-20260101-0777"); r.code != http.StatusNotFound {
		t.Fatalf("rating of an unknown receipt = %d %s", r.code, r.body)
	}
	if r := rate("K1", s.Receipt); r.code != http.StatusCreated {
		t.Fatalf("K1 rates its own receipt = %d %s", r.code, r.body)
	}
	if r := track(e, "K2", s.Receipt, map[string]string{api.HeaderHolderProof: api.HolderProof(testID, s.Receipt)}); r.code != http.StatusOK {
		t.Fatalf("lookup = %d %s", r.code, r.body)
	}
	if r := rate("K2", s.Receipt); r.code != http.StatusCreated {
		t.Fatalf("K2 rates a receipt looked up there = %d %s", r.code, r.body)
	}
}

// TestHeadOnlyOwnBlobs: HEAD is no existence oracle for other kiosks' pages.
func TestHeadOnlyOwnBlobs(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1", "K2", "K3")
	page := []byte("a scanned page of K1's applicant")
	sha := e.upload("K1", page)
	head := func(kiosk string) int { return e.do(req{method: "HEAD", path: api.PathBlobs + sha, kiosk: kiosk}).code }
	if c := head("K1"); c != http.StatusOK {
		t.Fatalf("uploader's HEAD = %d", c)
	}
	if c := head("K2"); c != http.StatusNotFound {
		t.Fatalf("another kiosk's HEAD = %d, want 404", c)
	}
	// Naming the blob in a stored submission makes it K3's too.
	if r := e.submit("K3", newSubmission("K3", 1, page)); r.code != http.StatusCreated {
		t.Fatalf("K3 submission naming the page = %d %s", r.code, r.body)
	}
	if c := head("K3"); c != http.StatusOK {
		t.Fatalf("HEAD of a blob K3 named = %d", c)
	}
}

// TestUploadQuota: one kiosk cannot park unlimited unfinished uploads; the
// refusal is a clear 429 quota_exceeded, other kiosks are not affected, the
// kiosk's own uploads go on, and stale partial uploads stop counting.
func TestUploadQuota(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1", "K2")
	clk := &testClock{t: time.Now()}
	e.reconfigure(func(c *platform.Config) {
		c.Clock = clk.now
		c.Limits = platform.Limits{UploadQuotaCount: 2, UploadQuotaBytes: 10000, PartialTTL: 24 * time.Hour}
	})
	start := func(kiosk string, n, length int) resp {
		body := []byte(fmt.Sprintf("partial %d", n))
		return e.do(req{method: "PATCH", path: api.PathBlobs + fmt.Sprintf("%064x", n), body: body, kiosk: kiosk, at: clk.now(), header: patchHdr(0, length)})
	}
	for n := 1; n <= 2; n++ {
		if r := start("K1", n, 1000); r.code != http.StatusNoContent {
			t.Fatalf("upload %d: %d %s", n, r.code, r.body)
		}
	}
	r := start("K1", 3, 1000)
	if r.code != http.StatusTooManyRequests || r.errCode(t).Code != api.CodeQuota {
		t.Fatalf("third unfinished upload = %d %s", r.code, r.body)
	}
	// Going on with one it has started is fine.
	body := []byte("partial 1")
	if r := e.do(req{method: "PATCH", path: api.PathBlobs + fmt.Sprintf("%064x", 1), body: []byte("more"), at: clk.now(), header: patchHdr(len(body), 1000)}); r.code != http.StatusNoContent {
		t.Fatalf("resuming its own upload = %d %s", r.code, r.body)
	}
	if r := start("K2", 4, 20000); r.code != http.StatusTooManyRequests || r.errCode(t).Code != api.CodeQuota {
		t.Fatalf("upload over the byte quota = %d %s", r.code, r.body)
	}
	if r := start("K2", 5, 1000); r.code != http.StatusNoContent {
		t.Fatalf("another kiosk = %d %s", r.code, r.body)
	}
	// A fresh upload, even a whole page in one PATCH, waits too.
	page := []byte("a whole page")
	if r := e.do(req{method: "PATCH", path: api.PathBlobs + shaHex(page), body: page, at: clk.now(), header: patchHdr(0, len(page))}); r.code != http.StatusTooManyRequests {
		t.Fatalf("new upload while at quota = %d %s", r.code, r.body)
	}
	clk.add(25 * time.Hour)
	if r := start("K1", 6, 1000); r.code != http.StatusNoContent {
		t.Fatalf("upload after the old ones went stale = %d %s", r.code, r.body)
	}
}

// TestClientTrackProven: the kiosk's client sends the proof the platform
// checks (lookup code as typed, or the card's holder proof).
func TestClientTrackProven(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1", "K2")
	code, _ := api.NewLookupCode()
	s := newSubmission("K1", 1)
	s.LookupCodeSHA256 = api.LookupCodeSHA256(code)
	if r := e.submit("K1", s); r.code != http.StatusCreated {
		t.Fatalf("submit: %d %s", r.code, r.body)
	}
	c, err := client.New(client.Config{BaseURL: e.http.URL, KioskID: "K2", Token: e.tokens["K2"], RetryMax: 0})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, p := range []client.TrackProof{{LookupCode: api.FormatLookupCode(code)}, {IDNumber: testID}} {
		tr, err := c.TrackProven(ctx, s.Receipt, p)
		if err != nil || tr.Receipt != s.Receipt {
			t.Fatalf("TrackProven(%+v) = %+v %v", p, tr, err)
		}
	}
	var ae *client.APIError
	if _, err := c.Track(ctx, s.Receipt); !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		t.Fatalf("Track without proof = %v", err)
	}
}
