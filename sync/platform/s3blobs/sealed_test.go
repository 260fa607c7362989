package s3blobs

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"testing"

	"github.com/minio/minio-go/v7"

	"onedoor/sync/platform"
	"onedoor/sync/platform/blobseal"
	"onedoor/sync/platform/blobtest"
)

// grepBucket returns the objects of the store's bucket whose bytes contain
// marker, and the files of the gateway's backend folder of the bucket
// (objects, their metadata, multipart leftovers) that do.
func grepBucket(t *testing.T, s *Store, marker string) []string {
	t.Helper()
	var hits []string
	for o := range s.c.ListObjects(t.Context(), s.bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		obj, err := s.c.GetObject(t.Context(), s.bucket, o.Key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(obj)
		obj.Close()
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(marker)) {
			hits = append(hits, "object "+o.Key)
		}
	}
	for _, f := range blobtest.GrepFolder(t, filepath.Join(gw.Dir, s.bucket), marker) {
		hits = append(hits, "file "+f)
	}
	return hits
}

// TestNoPlaintextInBucket writes pages through every path a page takes
// into the bucket (a PATCH whole, a batch's pack, pieces of a resumed
// upload and their assembly, an upload still in pieces, migrate's Put)
// and finds none of their bytes in any object nor in the gateway's files.
// On the code before sealing every one of them was found.
func TestNoPlaintextInBucket(t *testing.T) {
	const marker = "440106199001011234-MARKER"
	r := newPackedRig(t)
	s := r.open(t, r.index)
	ctx := t.Context()
	whole, packed, resumed, pending, put := blobtest.Page(64<<10, marker+"w"), blobtest.Page(30<<10, marker+"p"), blobtest.Page(200<<10, marker+"r"), blobtest.Page(90<<10, marker+"q"), blobtest.Page(10<<10, marker+"m")
	if n, err := s.Append(ctx, blobtest.HexSHA(whole), 0, int64(len(whole)), "", bytes.NewReader(whole)); n != int64(len(whole)) || err != nil {
		t.Fatalf("whole: %d %v", n, err)
	}
	mustStoreWhole(t, s, [][]byte{packed})
	sha := blobtest.HexSHA(resumed)
	for _, cut := range [][2]int{{0, 1000}, {1000, 150000}, {150000, len(resumed)}} {
		if n, err := s.Append(ctx, sha, int64(cut[0]), int64(len(resumed)), "", bytes.NewReader(resumed[cut[0]:cut[1]])); n != int64(cut[1]) || err != nil {
			t.Fatalf("piece %v: %d %v", cut, n, err)
		}
	}
	if n, err := s.Append(ctx, blobtest.HexSHA(pending), 0, int64(len(pending)), "", &blobtest.FailingReader{R: bytes.NewReader(pending), N: 5000}); n != 5000 || err == nil {
		t.Fatalf("cut upload: %d %v", n, err)
	}
	if err := s.Put(ctx, blobtest.HexSHA(put), put); err != nil {
		t.Fatal(err)
	}
	if hits := grepBucket(t, s, marker); len(hits) > 0 {
		t.Fatalf("plaintext of a page in the bucket: %v", hits)
	}
	other := r.open(t, r.index) // another instance, nothing in memory
	for _, b := range [][]byte{whole, packed, resumed, put} {
		if got := blobtest.Read(t, other, blobtest.HexSHA(b)); !bytes.Equal(got, b) {
			t.Fatalf("blob %.12s reads back wrong", blobtest.HexSHA(b))
		}
	}
	if off, _, _ := other.Offset(ctx, blobtest.HexSHA(pending)); off != 5000 {
		t.Fatalf("pending offset %d", off)
	}
}

// putRaw stores b as object key as it is (the code before sealing wrote
// plaintext).
func putRaw(t *testing.T, s *Store, key string, b []byte) {
	t.Helper()
	if _, err := s.c.PutObject(t.Context(), s.bucket, key, bytes.NewReader(b), int64(len(b)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestLegacyBucket: a bucket written before sealing (a plaintext blob
// object, a pack of "ODB1" records with its index rows in PostgreSQL, an
// upload in plaintext pieces) upgrades in place: every old blob reads back
// and seeks, is walked with its size, is complete; the upload continues at
// its offset and ends sealed; new pages are sealed.
func TestLegacyBucket(t *testing.T) {
	const marker = "LEGACY-PAGE-MARKER"
	r := newPackedRig(t)
	ctx := t.Context()
	// The old layout, written by hand as the old code wrote it.
	cfg, err := ParseURL(r.url)
	if err != nil {
		t.Fatal(err)
	}
	file, p1, p2 := blobtest.Page(300<<10, marker+"f"), blobtest.Page(20<<10, marker+"1"), blobtest.Page(40<<10, marker+"2")
	partial := blobtest.Page(120<<10, marker+"partial")
	// A store is opened only to reach the bucket through its client;
	// objects are written under the old names, and the store reopened
	// so it sees the bucket as the upgrade does.
	boot := r.open(t, r.index)
	putRaw(t, boot, cfg.Prefix+"blobs/"+blobtest.HexSHA(file), file)
	var pack []byte
	var rows []platform.PackedBlob
	for _, b := range [][]byte{p1, p2} {
		var hdr [recordHeader]byte
		binary.BigEndian.PutUint32(hdr[:4], recordMagic)
		binary.BigEndian.PutUint64(hdr[4:12], uint64(len(b)))
		sum, _ := hex.DecodeString(blobtest.HexSHA(b))
		copy(hdr[12:], sum)
		pack = append(pack, hdr[:]...)
		rows = append(rows, platform.PackedBlob{SHA: blobtest.HexSHA(b), Object: cfg.Prefix + "packs/20261201T000000.000000000-0011223344556677", Off: int64(len(pack)), Size: int64(len(b))})
		pack = append(pack, b...)
	}
	putRaw(t, boot, rows[0].Object, pack)
	if err := r.index.AddPacked(ctx, rows); err != nil {
		t.Fatal(err)
	}
	psha := blobtest.HexSHA(partial)
	putRaw(t, boot, fmt.Sprintf("%spartial/%s/%016d", cfg.Prefix, psha, 0), partial[:30000])
	putRaw(t, boot, fmt.Sprintf("%spartial/%s/%016d", cfg.Prefix, psha, 30000), partial[30000:50000])

	s := r.open(t, r.index)
	blobtest.CheckReadable(t, s, [][]byte{file, p1, p2})
	if off, started, err := s.Offset(ctx, psha); off != 50000 || !started || err != nil {
		t.Fatalf("legacy upload offset = %d %v %v", off, started, err)
	}
	if n, err := s.Append(ctx, psha, 50000, int64(len(partial)), "", bytes.NewReader(partial[50000:])); n != int64(len(partial)) || err != nil {
		t.Fatalf("resume the legacy upload: %d %v", n, err)
	}
	if got := blobtest.Read(t, s, psha); !bytes.Equal(got, partial) {
		t.Fatal("resumed blob reads back wrong")
	}
	fresh := blobtest.Page(50<<10, marker+"new")
	mustStoreWhole(t, s, [][]byte{fresh})
	for _, m := range []string{marker + "partial", marker + "new"} {
		if hits := grepBucket(t, s, m); len(hits) > 0 {
			t.Fatalf("%s in plaintext: %v", m, hits)
		}
	}
}

// TestBucketKeyRequired: no key is an error, never plaintext, and a bucket
// sealed under one data key refuses an instance started with another.
func TestBucketKeyRequired(t *testing.T) {
	url := gw.Bucket(t)
	cfg, err := ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(t.Context(), cfg); !errors.Is(err, blobseal.ErrNoKey) {
		t.Fatalf("New without a key = %v, want ErrNoKey", err)
	}
	cfg.Key = blobtest.TestKey(t)
	if _, err := New(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Key = blobtest.KeyOf(t, 0x43)
	if _, err := New(t.Context(), cfg); !errors.Is(err, blobseal.ErrWrongKey) {
		t.Fatalf("New with another key = %v, want ErrWrongKey", err)
	}
}

// TestDamagedSealedBlob: one ciphertext byte changed in a sealed object
// reads back as bytes that do not hash to the address (what verify
// checks); a damaged header is an error naming the damage.
func TestDamagedSealedBlob(t *testing.T) {
	s := openURL(t, gw.Bucket(t))
	ctx := context.Background()
	b := blobtest.Page(100<<10, "page")
	sha := blobtest.HexSHA(b)
	if _, err := s.Append(ctx, sha, 0, int64(len(b)), "", bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	obj, err := s.c.GetObject(ctx, s.bucket, s.blobKey(sha), minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	unit, err := io.ReadAll(obj)
	obj.Close()
	if err != nil {
		t.Fatal(err)
	}
	unit[blobseal.HeaderSize+777] ^= 0x80
	putRaw(t, s, s.blobKey(sha), unit)
	if got := blobtest.Read(t, s, sha); len(got) != len(b) || blobtest.HexSHA(got) == sha {
		t.Fatal("damaged ciphertext not seen")
	}
	unit[0] ^= 0xff
	putRaw(t, s, s.blobKey(sha), unit)
	if _, err := s.Open(ctx, sha); !errors.Is(err, blobseal.ErrHeader) {
		t.Fatalf("damaged header: %v", err)
	}
}
