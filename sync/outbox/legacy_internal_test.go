package outbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"onedoor/sync/outbox/sealed"
)

// TestOpensOutboxOfEarlierVersion: an outbox of the version before scans
// moved into the database (schema 2, pages as sealed blob files under
// blobs/) is made here at run time rather than committed (data and keys
// never go into the repository): two submissions are stored, then their
// pages are moved out to files sealed as that version sealed them, and
// migration 3 is undone. Reopened, the store migrates, reads and verifies
// the files, and purges them once no row names them.
func TestOpensOutboxOfEarlierVersion(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	shared := bytes.Repeat([]byte("v2 shared page "), 200)
	own1 := bytes.Repeat([]byte("v2 first own page "), 50)
	own2 := bytes.Repeat([]byte("v2 second own page "), 50)
	first, err := s.Submit(ctx, fictional(shared, own1))
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.Submit(ctx, fictional(shared, own2))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(s.blobDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, page := range [][]byte{shared, own1, own2} {
		sum := sha256.Sum256(page)
		f, err := os.OpenFile(filepath.Join(s.blobDir, hex.EncodeToString(sum[:])), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sealed.Seal(f, s.keys.blob, page, sum[:], s.segmentSize()); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// Migrations 3 and 4 undone: no blob tables, no pack.
	if err := os.Remove(filepath.Join(dir, packName)); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TABLE pack_free`, `DELETE FROM kv WHERE key LIKE 'pack_%'`, `DELETE FROM schema_version WHERE version = 4`,
		`DROP TABLE blob_segments`, `DROP TABLE blobs`, `DELETE FROM schema_version WHERE version = 3`} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	opts := s.opts
	s.Close()

	s, err = Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.Stats(ctx)
	if err != nil || st.SchemaVersion != 4 || st.Queued != 2 || st.BlobFiles != 3 {
		t.Fatalf("stats after migration: schema %d, queued %d, blobs %d, %v", st.SchemaVersion, st.Queued, st.BlobFiles, err)
	}
	if rep, err := s.Verify(ctx); err != nil || !rep.OK() || rep.BlobsOK != 3 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	for _, page := range [][]byte{shared, own1, own2} {
		sum := sha256.Sum256(page)
		r, err := s.OpenBlob(ctx, hex.EncodeToString(sum[:]))
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(page))
		if _, err := r.ReadAt(got, 0); err != nil || !bytes.Equal(got, page) {
			t.Errorf("old blob file %.12x reads back wrong: %v", sum, err)
		}
		r.Close()
	}
	if err := s.MarkSent(ctx, first.UUID, "C-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSent(ctx, second.UUID, "C-2", time.Now()); err != nil {
		t.Fatal(err)
	}
	if pr, err := s.Purge(ctx, time.Now().AddDate(1, 0, 0)); err != nil || pr.Submissions != 2 || pr.BlobFiles != 3 {
		t.Fatalf("purge: %+v %v", pr, err)
	}
	if files, _ := os.ReadDir(filepath.Join(dir, "blobs")); len(files) != 0 {
		t.Errorf("blob files left after both submissions were purged: %v", files)
	}
}
