package city

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"onedoor/sync/api"
	"onedoor/sync/client"
	"onedoor/sync/platform"
	"onedoor/sync/platform/pgstore/pgtest"
	"onedoor/sync/platform/s3blobs/s3test"
)

var gw *s3test.Server

// The PostgreSQL clusters are started once, lazily, by the first test that
// needs each (pgtest.Main cannot nest under s3test.Main): pg for the
// tests, without fsync; durablePG (fsync and synchronous_commit on, as a
// city's server) for the intake benchmark, whose SQLite baseline is
// durable too.
var (
	pg        = &pgtest.Lazy{}
	durablePG = &pgtest.Lazy{Opts: pgtest.Options{Durable: true}}
)

func TestMain(m *testing.M) {
	code := s3test.Main(m, &gw)
	pg.Stop()
	durablePG.Stop()
	os.Exit(code)
}

func cluster(t *testing.T) *pgtest.Cluster { return pg.Get(t) }

// rig is N platformd instances on one database and one bucket, each on
// its own loopback listener, with one kiosk registered.
type rig struct {
	urls   []string
	plats  []*Platform
	token  string
	keyDir string // the data key's folder (and the e-certificate keys')
}

const kioskID = "DG-0001"

func newRig(t *testing.T, n int) *rig {
	t.Helper()
	o := Options{DB: cluster(t).DB(t), Blobs: gw.Bucket(t), DataKey: filepath.Join(t.TempDir(), "data.key")}
	r := &rig{keyDir: filepath.Dir(o.DataKey)}
	for i := 0; i < n; i++ {
		p, err := Open(t.Context(), o, platform.Config{Logger: slog.New(slog.DiscardHandler), CasePrefix: "DG"})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(p.Server)
		t.Cleanup(func() { hs.Close(); p.Close() })
		r.urls, r.plats = append(r.urls, hs.URL), append(r.plats, p)
	}
	r.token = strings.Repeat("ab", 32)
	if err := r.plats[0].Store.AddKiosk(t.Context(), kioskID, r.token, time.Now()); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) client(t *testing.T, i int, rt http.RoundTripper) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{BaseURL: r.urls[i], KioskID: kioskID, Token: r.token, Transport: rt, RetryWaitMin: 10 * time.Millisecond, RetryWaitMax: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func shaHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func submission(n int, pages ...[]byte) *api.SubmissionRequest {
	s := &api.SubmissionRequest{
		UUID: uuid.NewString(), Receipt: fmt.Sprintf("%s-20260101-%04d", kioskID, n), KioskID: kioskID,
		ItemID: "hukou-move", ItemVersion: "3", CreatedAt: time.Now().UTC().Truncate(time.Second),
		Applicant: api.ApplicantData{Name: "测试人", IDNumber: "441900199001011231", Phone: "13800000000"},
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

func exportRows(t *testing.T, p *Platform) []platform.ExportRow {
	t.Helper()
	var rows []platform.ExportRow
	if err := p.Store.Export(t.Context(), func(r platform.ExportRow) error { rows = append(rows, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestSameSubmissionTwoInstancesOneCase: a kiosk whose answer was lost
// retries through the load balancer and lands on the other instance while
// the first is still working; both answers name one case.
func TestSameSubmissionTwoInstancesOneCase(t *testing.T) {
	r := newRig(t, 2)
	ctx := t.Context()
	page := []byte("page of an ID card copy")
	if _, err := r.client(t, 0, nil).UploadNewBlob(ctx, shaHex(page), int64(len(page)), bytes.NewReader(page), nil); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 10; round++ {
		sub := submission(round, page)
		var wg sync.WaitGroup
		res := make([]*api.SubmissionResponse, 4)
		errs := make([]error, 4)
		for i := range res {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res[i], errs[i] = r.client(t, i%2, nil).Submit(ctx, sub)
			}()
		}
		wg.Wait()
		for i := range res {
			if errs[i] != nil {
				t.Fatalf("round %d, copy %d: %v", round, i, errs[i])
			}
			if res[i].CaseNumber != res[0].CaseNumber {
				t.Fatalf("round %d: copies got cases %s and %s", round, res[0].CaseNumber, res[i].CaseNumber)
			}
		}
	}
	rows := exportRows(t, r.plats[1])
	if len(rows) != 10 {
		t.Fatalf("%d cases for 10 submissions sent 4 times each over 2 instances", len(rows))
	}
	// Applicants' data reaches PostgreSQL sealed, as it reaches SQLite.
	raw, err := r.plats[0].Store.Get(ctx, rows[0].UUID)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(raw); strings.Contains(string(b), "441900199001011231") || strings.Contains(string(b), "测试人") {
		t.Fatalf("applicant data in clear in the database: %s", b)
	}
}

// TestUploadResumesOnAnotherInstance: a scan half sent to one instance is
// finished through the other, which sends only the rest.
func TestUploadResumesOnAnotherInstance(t *testing.T) {
	r := newRig(t, 2)
	ctx := t.Context()
	page := make([]byte, 300<<10)
	rand.Read(page)
	sha := shaHex(page)
	if _, err := r.client(t, 0, nil).PatchBlob(ctx, sha, int64(len(page)), 0, 120<<10, bytes.NewReader(page)); err != nil {
		t.Fatal(err)
	}
	st, err := r.client(t, 1, nil).UploadBlob(ctx, sha, int64(len(page)), bytes.NewReader(page), nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.StartedAt != 120<<10 || st.Sent != int64(len(page))-120<<10 {
		t.Fatalf("second instance resumed from %d and sent %d bytes", st.StartedAt, st.Sent)
	}
	if _, err := r.client(t, 0, nil).Submit(ctx, submission(1, page)); err != nil {
		t.Fatalf("submission naming the blob, through the first instance: %v", err)
	}
	got, err := ReadAll(ctx, r.plats[0].Blobs, sha)
	if err != nil || !bytes.Equal(got, page) {
		t.Fatalf("stored blob differs (%v)", err)
	}
}

// recorder keeps the last request it carried, body included.
type recorder struct {
	mu   sync.Mutex
	last *http.Request
	body []byte
}

func (rec *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var b []byte
	if req.Body != nil {
		b, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	rec.mu.Lock()
	rec.last, rec.body = req.Clone(req.Context()), b
	rec.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

// TestReplayRefusedOnOtherInstance: a request captured on its way to one
// instance and replayed to another is refused (the nonce cache is shared).
func TestReplayRefusedOnOtherInstance(t *testing.T) {
	r := newRig(t, 2)
	rec := &recorder{}
	if _, err := r.client(t, 0, rec).Heartbeat(t.Context(), &api.Heartbeat{KioskID: kioskID, Version: "test"}); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	orig, body := rec.last, rec.body
	rec.mu.Unlock()
	replay, err := http.NewRequest(orig.Method, r.urls[1]+orig.URL.Path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	replay.Header = orig.Header.Clone()
	res, err := http.DefaultClient.Do(replay)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("replay to the other instance = %d %s", res.StatusCode, msg)
	}
}

// TestHealthReportsUnreachableStores: /healthz answers 503 when the
// instance cannot reach its database or its object store, so HAProxy
// takes it out of rotation.
func TestHealthReportsUnreachableStores(t *testing.T) {
	ctx := t.Context()
	cluster(t) // skip early without PostgreSQL
	ownPG, err := pgtest.Start(ctx, pgtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ownPG.Stop()
	ownGW, err := s3test.Start(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ownGW.Stop()
	p, err := Open(ctx, Options{DB: ownPG.DB(t), Blobs: ownGW.URL("health"), DataKey: filepath.Join(t.TempDir(), "data.key")}, platform.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	hs := httptest.NewServer(p.Server)
	defer hs.Close()
	health := func() (int, string) {
		res, err := http.Get(hs.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, strings.TrimSpace(string(b))
	}
	if code, msg := health(); code != 200 {
		t.Fatalf("healthy instance: %d %s", code, msg)
	}
	ownGW.Kill()
	if code, msg := health(); code != 503 || !strings.Contains(msg, "blob store") {
		t.Fatalf("object store down: %d %s", code, msg)
	}
	if err := ownGW.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if code, msg := health(); code != 200 {
		t.Fatalf("object store back: %d %s", code, msg)
	}
	if err := ownPG.Halt(ctx, "fast"); err != nil {
		t.Fatal(err)
	}
	if code, msg := health(); code != 503 || !strings.Contains(msg, "database") {
		t.Fatalf("database down: %d %s", code, msg)
	}
	if err := ownPG.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if code, msg := health(); code != 200 {
		t.Fatalf("database back: %d %s", code, msg)
	}
}
