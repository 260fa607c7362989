package platform_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"onedoor/internal/testdate"
	"testing"
	"time"

	"github.com/google/uuid"

	"onedoor/sync/api"
	"onedoor/sync/platform"
	"onedoor/sync/platform/blobdir"
	"onedoor/sync/platform/blobseal"
	"onedoor/sync/platform/sqlitestore"
)

// testID is a fictional ID number with a valid check character.
const testID = "441900199001011231"

// env is a platform on a real loopback listener over a temp-dir SQLite file
// (or PostgreSQL: stores_browser_test.go).
type env struct {
	t      testing.TB
	dir    string
	store  testStore
	blobs  *blobdir.Dir
	server *platform.Server
	http   *httptest.Server
	tokens map[string]string
	logs   *bytes.Buffer
	opts   sqlitestore.Options
	idle   time.Duration // Config.UploadIdleTimeout
}

func newEnv(t testing.TB, dir string, kiosks ...string) *env {
	t.Helper()
	return newEnvOpts(t, dir, sqlitestore.Options{}, kiosks...)
}

func newEnvOpts(t testing.TB, dir string, opts sqlitestore.Options, kiosks ...string) *env {
	t.Helper()
	e := &env{t: t, dir: dir, tokens: map[string]string{}, logs: &bytes.Buffer{}, opts: opts}
	e.start(nil)
	for _, k := range kiosks {
		tok := fmt.Sprintf("%064x", sha256.Sum256([]byte(k)))
		if err := e.store.AddKiosk(context.Background(), k, tok, time.Now()); err != nil {
			t.Fatal(err)
		}
		e.tokens[k] = tok
	}
	return e
}

func (e *env) start(catalog []byte) {
	e.t.Helper()
	st := openTestStore(e.t, e.dir, e.opts)
	// A fixed test data key: blobs are sealed at rest (blobseal).
	blobKey, _ := blobseal.NewKey(make([]byte, 32))
	blobs, err := blobdir.Open(e.dir+"/blobs", blobKey)
	if err != nil {
		e.t.Fatal(err)
	}
	srv, err := platform.New(platform.Config{Store: st, Blobs: blobs, Catalog: catalog, UploadIdleTimeout: e.idle, NonceFile: e.dir + "/nonces.json",
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		e.t.Fatal(err)
	}
	e.store, e.blobs, e.server = st, blobs, srv
	e.http = httptest.NewServer(srv)
	e.t.Cleanup(e.stop)
}

func (e *env) stop() {
	if e.http != nil {
		e.http.Close()
		if err := e.server.Close(); err != nil {
			e.t.Errorf("saving the replay cache: %v", err)
		}
		e.store.Close()
		e.blobs.Close()
		e.http = nil
	}
}

// req is one signed request. Zero fields get defaults: kiosk K1, now, a
// fresh nonce, the body's real hash.
type req struct {
	method, path string
	body         []byte
	kiosk        string
	token        string // overrides the kiosk's token
	at           time.Time
	nonce        string
	contentHash  string
	header       map[string]string
}

type resp struct {
	code   int
	header http.Header
	body   []byte
}

func (r resp) errCode(t *testing.T) api.ErrorResponse {
	t.Helper()
	var e api.ErrorResponse
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	return e
}

func (e *env) build(r req) *http.Request {
	e.t.Helper()
	if r.kiosk == "" {
		r.kiosk = "K1"
	}
	if r.token == "" {
		r.token = e.tokens[r.kiosk]
		if r.token == "" {
			r.token = "no-such-token"
		}
	}
	if r.at.IsZero() {
		r.at = time.Now()
	}
	if r.nonce == "" {
		r.nonce, _ = api.NewNonce()
	}
	if r.contentHash == "" {
		r.contentHash = api.BodySHA256(r.body)
	}
	hr, err := http.NewRequest(r.method, e.http.URL+r.path, bytes.NewReader(r.body))
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	if err := api.Sign(hr, r.kiosk, r.token, r.contentHash, r.at, r.nonce); err != nil {
		e.t.Fatal(err)
	}
	return hr
}

func (e *env) send(hr *http.Request) resp {
	e.t.Helper()
	res, err := e.http.Client().Do(hr)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{code: res.StatusCode, header: res.Header, body: b}
}

func (e *env) do(r req) resp { e.t.Helper(); return e.send(e.build(r)) }

func shaHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// upload sends a whole blob in one PATCH.
func (e *env) upload(kiosk string, data []byte) string {
	e.t.Helper()
	sha := shaHex(data)
	r := e.do(req{method: "PATCH", path: api.PathBlobs + sha, body: data, kiosk: kiosk, header: map[string]string{
		"Content-Type": api.ContentTypeOffset, api.HeaderUploadOffset: "0", api.HeaderUploadLength: fmt.Sprint(len(data))}})
	if r.code != http.StatusNoContent {
		e.t.Fatalf("upload: %d %s", r.code, r.body)
	}
	return sha
}

func newSubmission(kiosk string, n int, pages ...[]byte) api.SubmissionRequest {
	s := api.SubmissionRequest{
		UUID: uuid.NewString(), Receipt: fmt.Sprintf("%s-20260101-%04d", kiosk, n), KioskID: kiosk,
		ItemID: "hukou-move", ItemVersion: "3", CreatedAt: testdate.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC),
		Applicant: api.ApplicantData{Name: "测试人", IDNumber: testID, Phone: "13800000000"},
		Form:      map[string]string{"reason": "工作调动"},
	}
	if len(pages) > 0 {
		m := api.MaterialRef{MaterialID: "id-copy", Kind: api.KindScan}
		for _, p := range pages {
			m.Pages = append(m.Pages, api.BlobRef{SHA256: shaHex(p), Size: int64(len(p)), ContentType: "image/png"})
		}
		s.Materials = append(s.Materials, m)
	}
	return s
}

func (e *env) submit(kiosk string, s api.SubmissionRequest) resp {
	e.t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(req{method: "POST", path: api.PathSubmissions, body: b, kiosk: kiosk, header: map[string]string{api.HeaderIdempotencyKey: s.UUID}})
}
