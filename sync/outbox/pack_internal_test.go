package outbox

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"onedoor/sync/outbox/sealed"
)

// crash stops s as a power cut would leave it to the next process: no
// Close (which records the pack as synced), only the handles dropped.
func crash(t *testing.T, s *Store) {
	t.Helper()
	if s.ckptStop != nil {
		s.ckptStop()
		<-s.ckptDone
		s.ckptStop = nil
	}
	s.closeDBs()
	s.pack.Close()
	s.pack = nil
}

// extent is where blob sha sits in the pack.
func extent(t *testing.T, s *Store, sha string) (off, n int64) {
	t.Helper()
	if err := s.db.QueryRow(`SELECT pack_off, pack_len FROM blobs WHERE sha256 = ?`, sha).Scan(&off, &n); err != nil {
		t.Fatalf("blob %s: %v", sha, err)
	}
	return off, n
}

// overwrite writes b into the pack file of dir at off, behind the store's
// back.
func overwrite(t *testing.T, dir string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(dir+"/"+packName, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func packBytes(t *testing.T, dir string, off, n int64) []byte {
	t.Helper()
	f, err := os.Open(dir + "/" + packName)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTornPagesRolledBackAtOpen: the rows of a Submit can reach the disk
// before its pages (the two flushes run at once). After a crash, the
// submissions written since the verified mark whose pages do not
// authenticate are taken back at open — no receipt was printed for them
// — while those whose pages are whole stay, and so does an earlier blob
// a rolled-back submission shared.
func TestTornPagesRolledBackAtOpen(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	opts := s.opts
	early := bytes.Repeat([]byte("verified before the crash "), 100)
	a, err := s.Submit(ctx, fictional(early))
	if err != nil {
		t.Fatal(err)
	}
	s.Close() // records the pack as synced
	s, err = Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	verified, _ := kvInt(ctx, s.db, kvPackVerified)
	tail, _ := kvInt(ctx, s.db, kvPackTail)
	if verified != tail || tail == 0 {
		t.Fatalf("after a clean close: verified mark %d, allocation mark %d", verified, tail)
	}
	torn := bytes.Repeat([]byte("page whose write the power cut tore "), 100)
	whole := bytes.Repeat([]byte("page that made it to the disk "), 100)
	b, err := s.Submit(ctx, fictional(early, torn)) // shares early's blob
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Submit(ctx, fictional(whole))
	if err != nil {
		t.Fatal(err)
	}
	off, n := extent(t, s, shaOf(torn))
	crash(t, s)
	// The tail of the torn page never reached the disk.
	overwrite(t, dir, off+n/2, make([]byte, n-n/2))

	s, err = Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Lookup(ctx, b.Number); !errors.Is(err, ErrNotFound) {
		t.Errorf("submission with torn pages: Lookup %v, want ErrNotFound (rolled back)", err)
	}
	for _, r := range []Receipt{a, c} {
		if _, err := s.Lookup(ctx, r.Number); err != nil {
			t.Errorf("submission %s with whole pages: %v", r.Number, err)
		}
	}
	if _, err := s.OpenBlob(ctx, shaOf(torn)); !errors.Is(err, ErrNotFound) {
		t.Errorf("torn blob: %v, want ErrNotFound", err)
	}
	if got := ReadBlobForTest(t, s, shaOf(early)); !bytes.Equal(got, early) {
		t.Error("the earlier blob the rolled-back submission shared reads wrong")
	}
	if rep, err := s.Verify(ctx); err != nil || !rep.OK() || rep.BlobsOK != 2 || rep.Unreferenced != 0 {
		t.Errorf("verify after the rollback: %+v %v", rep, err)
	}
	entries, err := s.Audit(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		found = found || (e.Event == "rolled back" && e.Receipt == b.Number)
	}
	if !found {
		t.Errorf("no audit line for the rolled-back %s: %+v", b.Number, entries)
	}
	// The torn extent was erased; the mark moved past everything.
	if got := packBytes(t, dir, off, n); !bytes.Equal(got, make([]byte, n)) {
		t.Error("torn extent not erased")
	}
	verified, _ = kvInt(ctx, s.db, kvPackVerified)
	tail, _ = kvInt(ctx, s.db, kvPackTail)
	if verified != tail {
		t.Errorf("after recovery: verified mark %d, allocation mark %d", verified, tail)
	}
	// The same page submitted again is stored afresh and reads back.
	if _, err := s.Submit(ctx, fictional(torn)); err != nil {
		t.Fatal(err)
	}
	if got := ReadBlobForTest(t, s, shaOf(torn)); !bytes.Equal(got, torn) {
		t.Error("page submitted again reads wrong")
	}
}

// TestPackTailGarbageIgnored: bytes past the allocation mark (a Submit
// that wrote its pages but never committed, then the crash) are never
// read, are punched out at open, and the next Submit writes over them.
func TestPackTailGarbageIgnored(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	opts := s.opts
	page := bytes.Repeat([]byte("kept page "), 500)
	if _, err := s.Submit(ctx, fictional(page)); err != nil {
		t.Fatal(err)
	}
	tail, _ := kvInt(ctx, s.db, kvPackTail)
	crash(t, s)
	garbage := bytes.Repeat([]byte{0xa5}, 70_000)
	copy(garbage, "ODSB") // looks like a sealed header to a careless reader
	overwrite(t, dir, tail, garbage)

	s, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := packBytes(t, dir, tail, int64(len(garbage))); !bytes.Equal(got, make([]byte, len(garbage))) {
		t.Error("garbage past the allocation mark still in the pack after open")
	}
	if rep, err := s.Verify(ctx); err != nil || !rep.OK() || rep.BlobsOK != 1 {
		t.Errorf("verify: %+v %v", rep, err)
	}
	next := bytes.Repeat([]byte("next page "), 500)
	if _, err := s.Submit(ctx, fictional(next)); err != nil {
		t.Fatal(err)
	}
	if off, _ := extent(t, s, shaOf(next)); off != tail {
		t.Errorf("next page at %d, want the allocation mark %d", off, tail)
	}
	for _, p := range [][]byte{page, next} {
		if got := ReadBlobForTest(t, s, shaOf(p)); !bytes.Equal(got, p) {
			t.Error("page reads wrong")
		}
	}
}

// TestPurgeErasesPackBytes: a purge overwrites the purged pages' bytes in
// the pack with zeros (and punches the space out); an erasure a crash
// interrupted is finished at the next open.
func TestPurgeErasesPackBytes(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	opts := s.opts
	page := bytes.Repeat([]byte("resident's scan "), 1000)
	r, err := s.Submit(ctx, fictional(page))
	if err != nil {
		t.Fatal(err)
	}
	off, n := extent(t, s, shaOf(page))
	if _, err := s.NextDue(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSent(ctx, r.UUID, "C-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Purge(ctx, time.Now().Add(DefaultRetention+time.Hour))
	if err != nil || rep.Submissions != 1 || rep.BlobFiles != 1 {
		t.Fatalf("purge: %+v %v", rep, err)
	}
	if got := packBytes(t, dir, off, n); !bytes.Equal(got, make([]byte, n)) {
		t.Error("purged page's bytes still in the pack")
	}
	if left := count(t, s.db, "pack_free"); left != 0 {
		t.Errorf("%d extents left to erase", left)
	}

	// A crash after the purge's commit, before the erasure.
	other := bytes.Repeat([]byte("another scan "), 1000)
	r2, err := s.Submit(ctx, fictional(other))
	if err != nil {
		t.Fatal(err)
	}
	off, n = extent(t, s, shaOf(other))
	for _, q := range []string{
		`INSERT INTO pack_free (off, len) SELECT pack_off, pack_len FROM blobs`,
		`DELETE FROM submissions WHERE uuid = '` + r2.UUID + `'`,
		`DELETE FROM blobs`,
	} {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	crash(t, s)
	if bytes.Equal(packBytes(t, dir, off, n), make([]byte, n)) {
		t.Fatal("test set-up: page already zero")
	}
	s, err = Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := packBytes(t, dir, off, n); !bytes.Equal(got, make([]byte, n)) {
		t.Error("an erasure a crash interrupted was not finished at open")
	}
}

// TestSchema3BlobsStillRead: pages schema 3 stored in the database
// (blob_segments) keep reading, verifying and purging after migration 4.
func TestSchema3BlobsStillRead(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	opts := s.opts
	page := bytes.Repeat([]byte("page of schema 3 "), 300)
	r, err := s.Submit(ctx, fictional(page))
	if err != nil {
		t.Fatal(err)
	}
	// As schema 3 stored it: segments rows, no place in the pack.
	sum := shaOf(page)
	raw, err := hexSum(sum)
	if err != nil {
		t.Fatal(err)
	}
	header, segs, err := sealed.SealSegments(s.keys.blob, page, raw, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`UPDATE blobs SET header = ?, pack_off = NULL, pack_len = NULL WHERE sha256 = ?`, header, sum); err != nil {
		t.Fatal(err)
	}
	for i, seg := range segs {
		if _, err := s.db.Exec(`INSERT INTO blob_segments (sha256, seg, data) VALUES (?, ?, ?)`, sum, i, seg); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s, err = Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := ReadBlobForTest(t, s, sum); !bytes.Equal(got, page) {
		t.Error("schema 3 blob reads wrong")
	}
	if rep, err := s.Verify(ctx); err != nil || !rep.OK() || rep.BlobsOK != 1 {
		t.Errorf("verify: %+v %v", rep, err)
	}
	// The same page again shares the stored blob.
	if _, err := s.Submit(ctx, fictional(page)); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s.db, "blobs"); n != 1 {
		t.Errorf("%d blobs, want the schema 3 one shared", n)
	}
	if _, err := s.db.Exec(`DELETE FROM attachments`); err != nil {
		t.Fatal(err)
	}
	_ = r
	if rep, err := s.Purge(ctx, time.Now()); err != nil || rep.BlobFiles != 1 {
		t.Fatalf("purge: %+v %v", rep, err)
	}
	if n := count(t, s.db, "blob_segments"); n != 0 {
		t.Errorf("%d segments left after the purge", n)
	}
}

// TestMarkStaysAfterFailedSync: once an fdatasync of the pack has failed,
// the store never moves the verified mark again (Linux may report a later
// fdatasync as fine although the pages were lost), not even at a clean
// Close, so the next open still checks those pages and takes back a
// submission whose pages are gone.
func TestMarkStaysAfterFailedSync(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	opts := s.opts
	page := bytes.Repeat([]byte("page written after a failed sync "), 100)
	r, err := s.Submit(ctx, fictional(page))
	if err != nil {
		t.Fatal(err)
	}
	off, n := extent(t, s, shaOf(page))
	s.packTrusted.Store(false) // as packSync does when fdatasync fails
	s.Close()
	overwrite(t, dir, off, make([]byte, n)) // the pages never reached the disk
	s, err = Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Lookup(ctx, r.Number); !errors.Is(err, ErrNotFound) {
		t.Errorf("submission whose pages were lost: Lookup %v, want ErrNotFound (rolled back)", err)
	}
}
