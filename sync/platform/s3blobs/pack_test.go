package s3blobs

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/minio/minio-go/v7"

	"onedoor/sync/platform"
	"onedoor/sync/platform/blobtest"
	"onedoor/sync/platform/pgstore"
	"onedoor/sync/platform/pgstore/pgtest"
)

// The pack index lives in PostgreSQL (pgstore), started by the first test
// that needs it.
var pg pgtest.Lazy

// packedRig is a bucket and a database shared by the stores it opens, as
// by several platformd instances.
type packedRig struct {
	url   string
	index Index
}

func newPackedRig(t testing.TB) *packedRig {
	t.Helper()
	url := gw.Bucket(t)
	st, err := pgstore.Open(t.Context(), pg.Get(t).DB(t), pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &packedRig{url: url, index: st}
}

func (r *packedRig) open(t testing.TB, idx Index) *Store {
	t.Helper()
	cfg, err := ParseURL(r.url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Index = idx
	cfg.Key = blobtest.TestKey(t)
	s, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformancePacked(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) platform.BlobStore {
		r := newPackedRig(t)
		return r.open(t, r.index)
	})
}

func randomPages(t testing.TB, n, size int) [][]byte {
	t.Helper()
	pages := make([][]byte, n)
	for i := range pages {
		pages[i] = make([]byte, size)
		rand.Read(pages[i])
	}
	return pages
}

func storeWhole(t testing.TB, s *Store, pages [][]byte) []error {
	t.Helper()
	blobs := make([]platform.WholeBlob, len(pages))
	for i, p := range pages {
		blobs[i] = platform.WholeBlob{SHA: blobtest.HexSHA(p), Data: p}
	}
	errs, err := s.StoreWhole(t.Context(), blobs)
	if err != nil {
		t.Fatal(err)
	}
	return errs
}

func mustStoreWhole(t testing.TB, s *Store, pages [][]byte) {
	t.Helper()
	if err := errors.Join(storeWhole(t, s, pages)...); err != nil {
		t.Fatal(err)
	}
}

func countObjects(t testing.TB, s *Store, dir string) int {
	t.Helper()
	n := 0
	for o := range s.c.ListObjects(t.Context(), s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + dir, Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		n++
	}
	return n
}

// A batch's pages go to the bucket as one pack object, not one object
// each; another instance finds and reads every one of them, and storing
// them again (a retried batch) writes no new pack.
func TestBatchPagesShareAPack(t *testing.T) {
	r := newPackedRig(t)
	a, b := r.open(t, r.index), r.open(t, r.index)
	pages := randomPages(t, 64, 64<<10)
	mustStoreWhole(t, a, pages)
	packs := countObjects(t, a, "sealed/packs/")
	if packs != 1 {
		t.Fatalf("%d pack objects for a batch of 64 pages, want 1", packs)
	}
	if n := countObjects(t, a, "sealed/blobs/"); n != 0 {
		t.Fatalf("%d pages stored as objects of their own", n)
	}
	shas := make([]string, len(pages))
	for i, p := range pages {
		shas[i] = blobtest.HexSHA(p)
	}
	if miss, err := b.Missing(t.Context(), shas); err != nil || len(miss) != 0 {
		t.Fatalf("other instance: Missing = %v, %v", miss, err)
	}
	for i, p := range pages {
		if got := blobtest.Read(t, b, shas[i]); !bytes.Equal(got, p) {
			t.Fatalf("page %d read back differs", i)
		}
		if off, started, err := b.Offset(t.Context(), shas[i]); off != int64(len(p)) || !started || err != nil {
			t.Fatalf("page %d: Offset = %d %v %v", i, off, started, err)
		}
	}
	walked := map[string]bool{}
	if err := b.Walk(t.Context(), func(sha string, size int64) error { walked[sha] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, sha := range shas {
		if !walked[sha] {
			t.Fatalf("Walk missed %s", sha)
		}
	}
	// The same pages again through an instance that has not seen them.
	c := r.open(t, r.index)
	mustStoreWhole(t, c, pages)
	if n := countObjects(t, a, "sealed/packs/"); n != packs {
		t.Fatalf("a retried batch wrote %d more packs", n-packs)
	}
}

// failingIndex is the real index with its writes failing on demand, as
// when PostgreSQL is restarted between a pack's PUT and its rows.
type failingIndex struct {
	Index
	fail atomic.Bool
}

func (f *failingIndex) AddPacked(ctx context.Context, b []platform.PackedBlob) error {
	if f.fail.Load() {
		return errors.New("index down")
	}
	return f.Index.AddPacked(ctx, b)
}

// A page whose index row could not be written is reported as not stored
// (the kiosk sends it again), even though its pack reached the bucket: no
// instance may count it complete. Once the index is back, it is stored.
func TestPackWithoutIndexRowIsNotComplete(t *testing.T) {
	r := newPackedRig(t)
	fi := &failingIndex{Index: r.index}
	fi.fail.Store(true)
	a := r.open(t, fi)
	page := randomPages(t, 1, 100_000)[0]
	sha := blobtest.HexSHA(page)
	if _, err := a.StoreWhole(t.Context(), []platform.WholeBlob{{SHA: sha, Data: page}}); err == nil {
		t.Fatal("StoreWhole succeeded with the index down")
	}
	if n := countObjects(t, a, "sealed/packs/"); n != 1 {
		t.Fatalf("%d packs, want the 1 whose rows failed", n)
	}
	for _, s := range []*Store{a, r.open(t, r.index)} {
		if ok, _, err := s.Complete(t.Context(), sha); ok || err != nil {
			t.Fatalf("Complete = %v, %v after the index failed", ok, err)
		}
		if _, err := s.Open(t.Context(), sha); !errors.Is(err, platform.ErrNotFound) {
			t.Fatalf("Open = %v, want ErrNotFound", err)
		}
	}
	fi.fail.Store(false)
	mustStoreWhole(t, a, [][]byte{page})
	if got := blobtest.Read(t, r.open(t, r.index), sha); !bytes.Equal(got, page) {
		t.Fatal("read back differs")
	}
}

// A pack damaged in the bucket is served as the damaged bytes it holds,
// which do not hash to the address (verify reports them), never as a
// neighbour's bytes or as an error that hides which page is hurt.
func TestDamagedPackReadsAsDamaged(t *testing.T) {
	r := newPackedRig(t)
	a := r.open(t, r.index)
	pages := randomPages(t, 2, 20_000)
	mustStoreWhole(t, a, pages)
	var key string
	for o := range a.c.ListObjects(t.Context(), a.bucket, minio.ListObjectsOptions{Prefix: a.prefix + "sealed/packs/", Recursive: true}) {
		key = o.Key
	}
	obj, err := a.c.GetObject(t.Context(), a.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(obj); err != nil {
		t.Fatal(err)
	}
	obj.Close()
	raw := buf.Bytes()
	raw[len(raw)-1] ^= 0xff // the last byte of the last page
	if _, err := a.c.PutObject(t.Context(), a.bucket, key, bytes.NewReader(raw), int64(len(raw)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	damaged := 0
	for _, p := range pages {
		sha := blobtest.HexSHA(p)
		got := blobtest.Read(t, a, sha)
		if len(got) != len(p) {
			t.Fatalf("read %d bytes, want %d", len(got), len(p))
		}
		if blobtest.HexSHA(got) != sha {
			damaged++
		}
	}
	if damaged != 1 {
		t.Fatalf("%d pages read as damaged, want 1", damaged)
	}
	if !strings.HasPrefix(key, a.prefix+"sealed/packs/") {
		t.Fatalf("pack key %q", key)
	}
}

// A page that does not hash to its address is refused alone; the rest of
// the batch is kept, and a page over packMax gets an object of its own.
func TestStoreWholeRefusesWrongPageOnly(t *testing.T) {
	r := newPackedRig(t)
	a := r.open(t, r.index)
	pages := randomPages(t, 3, 30_000)
	big := randomPages(t, 1, packMax+1)[0]
	blobs := []platform.WholeBlob{
		{SHA: blobtest.HexSHA(pages[0]), Data: pages[0]},
		{SHA: blobtest.HexSHA(pages[1]), Data: pages[2]}, // wrong bytes
		{SHA: blobtest.HexSHA(big), Data: big},
		{SHA: blobtest.HexSHA(pages[2]), Data: pages[2]},
	}
	errs, err := a.StoreWhole(t.Context(), blobs)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []error{nil, platform.ErrHashMismatch, nil, nil} {
		if !errors.Is(errs[i], want) || (want == nil && errs[i] != nil) {
			t.Fatalf("blob %d: %v, want %v", i, errs[i], want)
		}
	}
	b := r.open(t, r.index)
	miss, err := b.Missing(t.Context(), []string{blobs[0].SHA, blobs[1].SHA, blobs[2].SHA, blobs[3].SHA})
	if err != nil || len(miss) != 1 || miss[0] != blobs[1].SHA {
		t.Fatalf("Missing = %v, %v; want only the refused page", miss, err)
	}
	if n := countObjects(t, a, "sealed/blobs/"); n != 1 {
		t.Fatalf("%d objects of their own, want 1 (the large page)", n)
	}
	if got := blobtest.Read(t, b, blobs[2].SHA); !bytes.Equal(got, big) {
		t.Fatal("large page differs")
	}
}

// A row whose pack object is gone (a bucket restored from before it) reads
// as not found, which verify reports as missing.
func TestRowWithoutPackIsNotFound(t *testing.T) {
	r := newPackedRig(t)
	a := r.open(t, r.index)
	page := randomPages(t, 1, 10_000)[0]
	mustStoreWhole(t, a, [][]byte{page})
	for o := range a.c.ListObjects(t.Context(), a.bucket, minio.ListObjectsOptions{Prefix: a.prefix + "sealed/packs/", Recursive: true}) {
		if err := a.c.RemoveObject(t.Context(), a.bucket, o.Key, minio.RemoveObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Open(t.Context(), blobtest.HexSHA(page)); !errors.Is(err, platform.ErrNotFound) {
		t.Fatalf("Open = %v, want ErrNotFound", err)
	}
}
