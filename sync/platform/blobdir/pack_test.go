package blobdir

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"onedoor/sync/platform"
	"onedoor/sync/platform/blobtest"
)

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPackedBlobs uploads many small blobs at once (they share fsyncs), one
// blob twice at the same time, and one larger than packMax, then reopens
// the folder: every blob reads back exactly, only the small ones are in a
// pack, and no file per small blob was made.
func TestPackedBlobs(t *testing.T) {
	root := t.TempDir()
	d, err := Open(root, blobtest.TestKey(t))
	if err != nil {
		t.Fatal(err)
	}
	var blobs [][]byte
	for i := range 40 {
		blobs = append(blobs, randomBytes(t, 1000+i*997))
	}
	twice := blobs[3]
	big := randomBytes(t, packMax+1)
	var wg sync.WaitGroup
	errs := make(chan error, len(blobs)+2)
	upload := func(b []byte) {
		defer wg.Done()
		// The second of two uploads of one blob may find it complete and
		// be told so with its end offset (409 on the wire).
		n, err := d.Append(t.Context(), hexSHA(b), 0, int64(len(b)), hexSHA(b), bytes.NewReader(b))
		if n != int64(len(b)) || (err != nil && !errors.Is(err, platform.ErrOffsetMismatch)) {
			errs <- fmt.Errorf("append %d bytes: %d, %v", len(b), n, err)
		}
	}
	for _, b := range append(blobs, twice, big) {
		wg.Add(1)
		go upload(b)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	d, err = Open(root, blobtest.TestKey(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, b := range append(blobs, big) {
		sha := hexSHA(b)
		if ok, n, err := d.Complete(t.Context(), sha); !ok || n != int64(len(b)) || err != nil {
			t.Fatalf("Complete(%.12s) = %v, %d, %v", sha, ok, n, err)
		}
		if got := readBlob(t, d, sha); !bytes.Equal(got, b) {
			t.Fatalf("blob %.12s reads back %d different bytes", sha, len(got))
		}
		_, packed, err := d.packs.lookup(sha)
		if err != nil || packed != (len(b) <= packMax) {
			t.Fatalf("blob of %d bytes packed = %v, %v", len(b), packed, err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(root, sealedDir, "??", "*"))
	if len(files) != 1 || filepath.Base(files[0]) != hexSHA(big) {
		t.Fatalf("blob files %v, want only the large blob's", files)
	}
}

// TestPackTornTail simulates a crash after a group's bytes reached the pack
// but before its index rows were committed: those bytes belong to no blob,
// the blob is not complete (the kiosk never heard 204 and sends it again),
// and blobs written after reopening land after the stray bytes and read
// back intact.
func TestPackTornTail(t *testing.T) {
	root := t.TempDir()
	d, err := Open(root, blobtest.TestKey(t))
	if err != nil {
		t.Fatal(err)
	}
	first := randomBytes(t, 5000)
	if _, err := d.Append(t.Context(), hexSHA(first), 0, int64(len(first)), "", bytes.NewReader(first)); err != nil {
		t.Fatal(err)
	}
	d.Close()
	lost := randomBytes(t, 3000)
	pack := filepath.Join(root, "packs", packName(1))
	f, err := os.OpenFile(pack, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(lost[:1234]) // half of a blob, never indexed
	f.Close()

	d, err = Open(root, blobtest.TestKey(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if ok, _, _ := d.Complete(t.Context(), hexSHA(lost)); ok {
		t.Fatal("unindexed bytes count as a complete blob")
	}
	if off, started, _ := d.Offset(t.Context(), hexSHA(lost)); off != 0 || started {
		t.Fatalf("Offset of the lost blob = %d, %v; want a fresh start", off, started)
	}
	second := randomBytes(t, 7000)
	for _, b := range [][]byte{lost, second} {
		if _, err := d.Append(t.Context(), hexSHA(b), 0, int64(len(b)), "", bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range [][]byte{first, lost, second} {
		if got := readBlob(t, d, hexSHA(b)); !bytes.Equal(got, b) {
			t.Fatalf("blob %.12s damaged", hexSHA(b))
		}
	}
}

// TestPackRefusesAfterPartial: once part of a blob is held as a partial
// file, a request from offset 0 must be told the real offset, not packed.
func TestPackRefusesAfterPartial(t *testing.T) {
	d, err := Open(t.TempDir(), blobtest.TestKey(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	b := randomBytes(t, 4096)
	sha := hexSHA(b)
	if n, err := d.Append(t.Context(), sha, 0, int64(len(b)), "", bytes.NewReader(b[:1000])); err != nil || n != 1000 {
		t.Fatalf("first piece: %d, %v", n, err)
	}
	if n, err := d.Append(t.Context(), sha, 0, int64(len(b)), "", bytes.NewReader(b)); n != 1000 || err == nil {
		t.Fatalf("restart from 0 over a partial upload: %d, %v; want 1000 and a mismatch", n, err)
	}
	if n, err := d.Append(t.Context(), sha, 1000, int64(len(b)), "", bytes.NewReader(b[1000:])); err != nil || n != int64(len(b)) {
		t.Fatalf("resume: %d, %v", n, err)
	}
	if got := readBlob(t, d, sha); !bytes.Equal(got, b) {
		t.Fatal("resumed blob damaged")
	}
}

// TestBlobDirSingleWriter: a second platform on the same folder would append
// over the first one's blobs, so it is refused until the first closes.
func TestBlobDirSingleWriter(t *testing.T) {
	root := t.TempDir()
	d, err := Open(root, blobtest.TestKey(t))
	if err != nil {
		t.Fatal(err)
	}
	if d2, err := Open(root, blobtest.TestKey(t)); err == nil {
		d2.Close()
		t.Fatal("a second BlobDir opened the same folder")
	}
	d.Close()
	d2, err := Open(root, blobtest.TestKey(t))
	if err != nil {
		t.Fatalf("reopen after close: %v", err)
	}
	d2.Close()
}

// TestPackIndexRebuilt: the index is a cache of the packs (committed without
// fsync). After a power cut it may miss its newest rows, or the whole file
// may be gone; opening the folder finds every durable blob again, and stops
// at a record whose bytes do not hash to its header's address.
func TestPackIndexRebuilt(t *testing.T) {
	for _, tc := range []struct {
		name string
		lose func(t *testing.T, root string)
	}{
		{"newest rows lost", func(t *testing.T, root string) {
			db, err := sql.Open("sqlite3", filepath.Join(root, "packs", "index.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(`DELETE FROM packed WHERE off > (SELECT min(off) FROM packed)`); err != nil {
				t.Fatal(err)
			}
		}},
		{"index file lost", func(t *testing.T, root string) {
			for _, f := range []string{"index.db", "index.db-wal", "index.db-shm"} {
				os.Remove(filepath.Join(root, "packs", f))
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			d, err := Open(root, blobtest.TestKey(t))
			if err != nil {
				t.Fatal(err)
			}
			var blobs [][]byte
			for i := range 5 {
				b := randomBytes(t, 2000+i)
				blobs = append(blobs, b)
				if _, err := d.Append(t.Context(), hexSHA(b), 0, int64(len(b)), "", bytes.NewReader(b)); err != nil {
					t.Fatal(err)
				}
			}
			d.Close()
			// A torn last record: a whole header, damaged bytes.
			torn := randomBytes(t, 3000)
			pack := filepath.Join(root, "packs", packName(1))
			fi, _ := os.Stat(pack)
			f, _ := os.OpenFile(pack, os.O_WRONLY, 0)
			var hdr [headerSize]byte
			binary.BigEndian.PutUint32(hdr[:4], recordMagic)
			binary.BigEndian.PutUint64(hdr[4:12], uint64(len(torn)))
			copy(hdr[12:], func() []byte { s := sha256.Sum256(torn); return s[:] }())
			f.WriteAt(hdr[:], fi.Size())
			f.WriteAt(make([]byte, len(torn)), fi.Size()+headerSize) // zeros where the bytes never landed
			f.Close()
			tc.lose(t, root)

			d, err = Open(root, blobtest.TestKey(t))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			for _, b := range blobs {
				if got := readBlob(t, d, hexSHA(b)); !bytes.Equal(got, b) {
					t.Fatalf("blob %.12s not recovered", hexSHA(b))
				}
			}
			if ok, _, _ := d.Complete(t.Context(), hexSHA(torn)); ok {
				t.Fatal("a torn record was indexed")
			}
			// The next blob goes where the torn record was and survives
			// another reopen.
			next := randomBytes(t, 1500)
			if _, err := d.Append(t.Context(), hexSHA(next), 0, int64(len(next)), "", bytes.NewReader(next)); err != nil {
				t.Fatal(err)
			}
			if fi2, _ := os.Stat(pack); fi2.Size() != fi.Size()+headerSize+int64(len(torn)) {
				t.Fatalf("pack is %d bytes, want the torn record overwritten (%d)", fi2.Size(), fi.Size()+headerSize+int64(len(torn)))
			}
			d.Close()
			d2, err := Open(root, blobtest.TestKey(t))
			if err != nil {
				t.Fatal(err)
			}
			defer d2.Close()
			if got := readBlob(t, d2, hexSHA(next)); !bytes.Equal(got, next) {
				t.Fatal("blob written over the torn record lost")
			}
		})
	}
}

// FuzzPackRecover appends arbitrary bytes to a pack holding one good blob
// and reopens the folder: the scan must never fail, never index a blob
// whose bytes do not hash to its address, and keep the good blob.
func FuzzPackRecover(f *testing.F) {
	good := []byte("a scanned page")
	rec := func(data []byte, sum []byte) []byte {
		var hdr [headerSize]byte
		binary.BigEndian.PutUint32(hdr[:4], recordMagic)
		binary.BigEndian.PutUint64(hdr[4:12], uint64(len(data)))
		copy(hdr[12:], sum)
		return append(hdr[:], data...)
	}
	other := []byte("another page")
	sum := sha256.Sum256(other)
	f.Add(rec(other, sum[:]))
	f.Add(rec(other, sum[:])[:20])
	f.Add(rec([]byte("damaged page"), sum[:]))
	f.Add([]byte("ODB1\xff\xff\xff\xff\xff\xff\xff\xff"))
	// Sealed records: whole, cut in its unit header, a damaged byte.
	sealed := sealedRecord(f, other)
	f.Add(sealed)
	f.Add(sealed[:headerSize+20])
	damaged := bytes.Clone(sealed)
	damaged[len(damaged)-1] ^= 1
	f.Add(damaged)
	f.Fuzz(func(t *testing.T, tail []byte) {
		root := t.TempDir()
		d, err := Open(root, blobtest.TestKey(t))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Append(t.Context(), hexSHA(good), 0, int64(len(good)), "", bytes.NewReader(good)); err != nil {
			t.Fatal(err)
		}
		d.Close()
		pf, err := os.OpenFile(filepath.Join(root, "packs", packName(1)), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		pf.Write(tail)
		pf.Close()
		os.Remove(filepath.Join(root, "packs", "index.db")) // force a full scan
		os.Remove(filepath.Join(root, "packs", "index.db-wal"))
		os.Remove(filepath.Join(root, "packs", "index.db-shm"))
		d, err = Open(root, blobtest.TestKey(t))
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		defer d.Close()
		if got := readBlob(t, d, hexSHA(good)); !bytes.Equal(got, good) {
			t.Fatal("good blob lost")
		}
		rows, err := d.packs.r.Query(`SELECT sha FROM packed`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var sha string
			rows.Scan(&sha)
			if b := readBlob(t, d, sha); hexSHA(b) != sha {
				t.Fatalf("indexed %.12s holds bytes hashing to %.12s", sha, hexSHA(b))
			}
		}
	})
}

// sealedRecord is blob data as a sealed pack record ("ODS1").
func sealedRecord(t testing.TB, data []byte) []byte {
	unit, err := blobtest.TestKey(t).Seal(hexSHA(data), data)
	if err != nil {
		t.Fatal(err)
	}
	var hdr [headerSize]byte
	binary.BigEndian.PutUint32(hdr[:4], sealedMagic)
	binary.BigEndian.PutUint64(hdr[4:12], uint64(len(data)))
	sum := sha256.Sum256(data)
	copy(hdr[12:], sum[:])
	return append(hdr[:], unit...)
}

// TestStorageFailureIsNotABodyError: when the platform cannot write (here
// the pack file is gone from under the writer, as with a failing disk), the
// error must not look like a dropped link or a bad request, which the
// server would answer with a 4xx the kiosk reads as a verdict.
func TestStorageFailureIsNotABodyError(t *testing.T) {
	d, err := Open(t.TempDir(), blobtest.TestKey(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.packs.cur.Close() // every write to the pack now fails
	b := randomBytes(t, 3000)
	n, err := d.Append(t.Context(), hexSHA(b), 0, int64(len(b)), "", bytes.NewReader(b))
	if err == nil || n != 0 {
		t.Fatalf("Append = %d, %v; want a storage error", n, err)
	}
	for _, e := range []error{platform.ErrBodyRead, platform.ErrOffsetMismatch, platform.ErrHashMismatch, platform.ErrChunkHash, platform.ErrBlobTooLong} {
		if errors.Is(err, e) {
			t.Fatalf("storage failure reported as %v: %v", e, err)
		}
	}
	if ok, _, _ := d.Complete(t.Context(), hexSHA(b)); ok {
		t.Fatal("a blob that was not written counts as complete")
	}
	// A cut body, by contrast, is a body error.
	_, err = d.Append(t.Context(), hexSHA(b), 0, int64(len(b)), "", &blobtest.FailingReader{R: bytes.NewReader(b), N: 100})
	if !errors.Is(err, platform.ErrBodyRead) {
		t.Fatalf("cut body: %v, want platform.ErrBodyRead", err)
	}
}
