package outbox_test

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"onedoor/sync/api"
	"onedoor/sync/outbox"
)

// TestOpensOutboxOfEarlierVersion opens testdata/v2outbox, an outbox the
// version before scans moved into the database wrote (schema 2, pages as
// blob files; made by its Submit and MarkSent): two submissions of kiosk
// V2 on 2026-11-20, the first delivered, the second queued, sharing one
// page of two segments. The new code migrates it, delivers the queued one
// from its files, stores new pages in the database (also one the files
// already hold), and purges the files once no row names them.
func TestOpensOutboxOfEarlierVersion(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	copyTree(t, filepath.Join("testdata", "v2outbox"), root)
	shared := bytes.Repeat([]byte("v2 shared page "), 4500)
	own1 := bytes.Repeat([]byte("v2 first own page "), 100)
	own2 := bytes.Repeat([]byte("v2 second own page "), 100)
	clk := newClock()
	clk.t = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	e := &env{dir: filepath.Join(root, "data"), keyFile: filepath.Join(root, "key"), clock: clk, logs: &lockedBuffer{}}
	o := e.options()
	o.KioskID = "V2"
	s, err := outbox.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	st, err := s.Stats(ctx)
	if err != nil || st.SchemaVersion != 3 || st.Queued != 1 || st.BlobFiles != 3 {
		t.Fatalf("stats after migration: schema %d, queued %d, blobs %d, %v", st.SchemaVersion, st.Queued, st.BlobFiles, err)
	}
	rep, err := s.Verify(ctx)
	if err != nil || !rep.OK() || rep.BlobsOK != 3 || rep.Unreferenced != 0 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	p, err := s.NextDue(ctx, clk.Now())
	if err != nil || p == nil || p.Receipt != "V2-20261120-0002" || len(p.Blobs) != 2 {
		t.Fatalf("NextDue: %+v %v", p, err)
	}
	want := map[string][]byte{shaHex(shared): shared, shaHex(own2): own2}
	for _, b := range p.Blobs {
		if got := readBlob(t, s, b.SHA256); !bytes.Equal(got, want[b.SHA256]) {
			t.Errorf("blob %.12s of the queued submission reads back wrong", b.SHA256)
		}
	}
	// A resumed upload reads from the middle of the second segment.
	r, err := s.OpenBlob(ctx, shaHex(shared))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1000)
	if _, err := r.ReadAt(buf, 66000); err != nil || !bytes.Equal(buf, shared[66000:67000]) {
		t.Errorf("ReadAt 66000 of an old blob file: %v", err)
	}
	r.Close()
	if err := s.MarkSent(ctx, p.UUID, "C-2", clk.Now()); err != nil {
		t.Fatal(err)
	}

	// A new submission shares the old page: stored anew, in the database.
	fresh := []byte("a page scanned after the upgrade")
	sub := sampleSubmission(30)
	sub.Materials = []outbox.Material{{MaterialID: "m1", Kind: api.KindScan, Pages: []outbox.Page{
		{Data: shared, ContentType: "image/jpeg"}, {Data: fresh, ContentType: "image/jpeg"}}}}
	if _, err := s.Submit(ctx, sub); err != nil {
		t.Fatal(err)
	}
	clk.Advance(8 * 24 * time.Hour)
	pr, err := s.Purge(ctx, clk.Now())
	// The two old submissions go; of the files, the pages only they named.
	if err != nil || pr.Submissions != 2 || pr.BlobFiles != 2 {
		t.Fatalf("purge: %+v %v", pr, err)
	}
	files, _ := os.ReadDir(filepath.Join(e.dir, "blobs"))
	if len(files) != 1 || files[0].Name() != shaHex(shared) {
		t.Errorf("blob files left: %v, want only the shared page (the new submission names it)", files)
	}
	for _, page := range [][]byte{own1, own2} {
		if _, err := s.OpenBlob(ctx, shaHex(page)); err == nil {
			t.Errorf("purged page %.12s still readable", shaHex(page))
		}
	}
	for _, page := range [][]byte{shared, fresh} {
		if got := readBlob(t, s, shaHex(page)); !bytes.Equal(got, page) {
			t.Errorf("page %.12s of the new submission reads back wrong", shaHex(page))
		}
	}
	if rep, err := s.Verify(ctx); err != nil || !rep.OK() || rep.BlobsOK != 2 {
		t.Errorf("verify after purge: %+v %v", rep, err)
	}
}

// copyTree copies the fixture with private modes (git keeps neither the
// key file's 0600 nor the directories' 0700).
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o700)
		}
		src, err := os.Open(path)
		if err != nil {
			return err
		}
		defer src.Close()
		out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, src); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
}
