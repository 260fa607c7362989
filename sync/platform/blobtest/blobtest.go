// Package blobtest is the conformance suite for platform.BlobStore
// implementations: the local folder (blobdir) and the object store
// (s3blobs) both run it, so a kiosk cannot tell them apart.
package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"onedoor/sync/platform"
	"onedoor/sync/platform/blobseal"
)

// Opener returns a fresh, empty store; the suite does not close it.
type Opener func(t *testing.T) platform.BlobStore

// HexSHA is the address of b.
func HexSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// FailingReader yields N bytes of R and then fails, like a dropped link.
type FailingReader struct {
	R io.Reader
	N int
}

func (f *FailingReader) Read(p []byte) (int, error) {
	if f.N <= 0 {
		return 0, errors.New("connection reset")
	}
	if len(p) > f.N {
		p = p[:f.N]
	}
	n, err := f.R.Read(p)
	f.N -= n
	return n, err
}

var errAny = errors.New("any error")

// Read reads a complete blob through Open.
func Read(t testing.TB, s platform.BlobStore, sha string) []byte {
	t.Helper()
	f, err := s.Open(context.Background(), sha)
	if err != nil {
		t.Fatalf("open %.12s: %v", sha, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Run runs every conformance test against stores from open.
func Run(t *testing.T, open Opener) {
	ctx := context.Background()
	data := []byte("0123456789")
	sha := HexSHA(data)
	tests := []struct {
		name     string
		prefix   int // bytes already held
		offset   int64
		length   int64
		chunkSHA func(chunk []byte) string
		body     io.Reader
		wantOff  int64
		wantErr  error
		complete bool
	}{
		{name: "whole, signed", offset: 0, length: 10, chunkSHA: HexSHA, body: bytes.NewReader(data), wantOff: 10, complete: true},
		{name: "whole, unsigned", offset: 0, length: 10, body: bytes.NewReader(data), wantOff: 10, complete: true},
		// From offset 0 the blob is verified with the hash taken as the
		// bytes arrive, not by re-reading: wrong bytes must still fail.
		{name: "whole, unsigned, wrong bytes", offset: 0, length: 10, body: strings.NewReader("0123456780"), wantOff: 0, wantErr: platform.ErrHashMismatch},
		{name: "whole, signed, wrong bytes", offset: 0, length: 10, chunkSHA: func([]byte) string { return HexSHA([]byte("0123456780")) }, body: strings.NewReader("0123456780"), wantOff: 0, wantErr: platform.ErrHashMismatch},
		{name: "resume, unsigned, wrong bytes", prefix: 4, offset: 4, length: 10, body: strings.NewReader("456780"), wantOff: 0, wantErr: platform.ErrHashMismatch},
		{name: "resume, unsigned", prefix: 4, offset: 4, length: 10, body: bytes.NewReader(data[4:]), wantOff: 10, complete: true},
		{name: "resume, signed", prefix: 4, offset: 4, length: 10, chunkSHA: HexSHA, body: bytes.NewReader(data[4:]), wantOff: 10, complete: true},
		{name: "wrong offset", prefix: 4, offset: 6, length: 10, body: bytes.NewReader(data[6:]), wantOff: 4, wantErr: platform.ErrOffsetMismatch},
		{name: "too long", offset: 0, length: 10, body: bytes.NewReader(append(data, 'x')), wantOff: 0, wantErr: platform.ErrBlobTooLong},
		{name: "too long on resume", prefix: 4, offset: 4, length: 10, body: bytes.NewReader(append(data[4:], 'x')), wantOff: 4, wantErr: platform.ErrBlobTooLong},
		{name: "length below held", prefix: 6, offset: 6, length: 5, body: bytes.NewReader(nil), wantOff: 6, wantErr: platform.ErrBlobTooLong},
		{name: "signed chunk corrupted", offset: 0, length: 10, chunkSHA: func([]byte) string { return HexSHA([]byte("other")) }, body: bytes.NewReader(data), wantOff: 0, wantErr: platform.ErrChunkHash},
		{name: "signed chunk cut", offset: 0, length: 10, chunkSHA: HexSHA, body: &FailingReader{R: bytes.NewReader(data), N: 7}, wantOff: 0, wantErr: platform.ErrBodyRead},
		{name: "unsigned chunk cut keeps bytes", offset: 0, length: 10, body: &FailingReader{R: bytes.NewReader(data), N: 7}, wantOff: 7, wantErr: platform.ErrBodyRead},
		{name: "signed piece shorter than the blob", offset: 0, length: 10, chunkSHA: HexSHA, body: bytes.NewReader(data[:3]), wantOff: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			if tc.prefix > 0 {
				if _, err := s.Append(ctx, sha, 0, 10, "", bytes.NewReader(data[:tc.prefix])); err != nil {
					t.Fatal(err)
				}
			}
			cs := ""
			if tc.chunkSHA != nil {
				end := min(int(tc.offset)+int(tc.length), len(data))
				if tc.name == "signed piece shorter than the blob" {
					end = 3
				}
				cs = tc.chunkSHA(data[tc.offset:end])
			}
			off, err := s.Append(ctx, sha, tc.offset, tc.length, cs, tc.body)
			if off != tc.wantOff || (tc.wantErr == nil) != (err == nil) || (tc.wantErr != nil && tc.wantErr != errAny && !errors.Is(err, tc.wantErr)) {
				t.Fatalf("Append = %d, %v; want %d, %v", off, err, tc.wantOff, tc.wantErr)
			}
			if got, _, _ := s.Offset(ctx, sha); got != tc.wantOff {
				t.Fatalf("Offset after = %d, want %d", got, tc.wantOff)
			}
			done, _, _ := s.Complete(ctx, sha)
			if done != tc.complete {
				t.Fatalf("complete = %v", done)
			}
			if done {
				if b := Read(t, s, sha); !bytes.Equal(b, data) {
					t.Fatalf("stored %q", b)
				}
			}
		})
	}

	t.Run("unknown blob", func(t *testing.T) {
		s := open(t)
		if off, started, err := s.Offset(ctx, sha); off != 0 || started || err != nil {
			t.Fatalf("Offset = %d %v %v", off, started, err)
		}
		if _, err := s.Open(ctx, sha); !errors.Is(err, platform.ErrNotFound) {
			t.Fatalf("Open = %v", err)
		}
		if _, err := s.Append(ctx, sha, 0, 10, "", bytes.NewReader(data[:2])); err != nil {
			t.Fatal(err)
		}
		if off, started, err := s.Offset(ctx, sha); off != 2 || !started || err != nil {
			t.Fatalf("Offset after 2 bytes = %d %v %v", off, started, err)
		}
		m, err := s.Missing(ctx, []string{sha, HexSHA([]byte("x"))})
		if err != nil || len(m) != 2 {
			t.Fatalf("Missing = %v %v", m, err)
		}
	})

	t.Run("dedup by address", func(t *testing.T) {
		s := open(t)
		if n, err := s.Append(ctx, sha, 0, 10, "", bytes.NewReader(data)); n != 10 || err != nil {
			t.Fatalf("upload: %d %v", n, err)
		}
		// A kiosk that starts from 0 on a blob another completed learns
		// where the end is: the store refuses at once, and the HTTP layer
		// answers 409 with the offset (docs/sync-api.md), whatever bytes
		// were sent; the blob stays complete and held once.
		if n, err := s.Append(ctx, sha, 0, 10, "", bytes.NewReader(data)); n != 10 || !errors.Is(err, platform.ErrOffsetMismatch) {
			t.Fatalf("second upload of a complete blob: %d %v, want 10, ErrOffsetMismatch", n, err)
		}
		if n, err := s.Append(ctx, sha, 0, 10, "", strings.NewReader("0123456780")); n != 10 || !errors.Is(err, platform.ErrOffsetMismatch) {
			t.Fatalf("wrong bytes for a complete blob: %d %v, want 10, ErrOffsetMismatch", n, err)
		}
		if b := Read(t, s, sha); !bytes.Equal(b, data) {
			t.Fatalf("complete blob changed to %q", b)
		}
		// One already at the end is told it is done.
		if n, err := s.Append(ctx, sha, 10, 10, "", bytes.NewReader(nil)); n != 10 || err != nil {
			t.Fatalf("upload at the end of a complete blob: %d %v", n, err)
		}
		if m, err := s.Missing(ctx, []string{sha}); err != nil || len(m) != 0 {
			t.Fatalf("Missing = %v %v", m, err)
		}
	})

	t.Run("large blob in chunks", func(t *testing.T) {
		s := open(t)
		big := make([]byte, 9<<20+12345) // over any whole-in-memory threshold
		rand.Read(big)
		bsha := HexSHA(big)
		var off int64
		for _, n := range []int{100 << 10, 5 << 20, 3 << 20} { // small, larger than S3's part minimum, the rest
			got, err := s.Append(ctx, bsha, off, int64(len(big)), "", bytes.NewReader(big[off:off+int64(n)]))
			if err != nil || got != off+int64(n) {
				t.Fatalf("chunk at %d: %d %v", off, got, err)
			}
			off = got
		}
		got, err := s.Append(ctx, bsha, off, int64(len(big)), HexSHA(big[off:]), bytes.NewReader(big[off:]))
		if err != nil || got != int64(len(big)) {
			t.Fatalf("last chunk: %d %v", got, err)
		}
		if ok, n, _ := s.Complete(ctx, bsha); !ok || n != int64(len(big)) {
			t.Fatalf("complete = %v %d", ok, n)
		}
		if b := Read(t, s, bsha); !bytes.Equal(b, big) {
			t.Fatal("stored bytes differ")
		}
	})

	// Open's reader seeks (the back office serves ranges of a page), in a
	// blob sent whole and in one sent in pieces: stores that encrypt at
	// rest must decrypt from any position.
	t.Run("open seeks", func(t *testing.T) {
		s := open(t)
		page := make([]byte, 200<<10+7)
		rand.Read(page)
		psha := HexSHA(page)
		if n, err := s.Append(ctx, psha, 0, int64(len(page)), "", bytes.NewReader(page)); n != int64(len(page)) || err != nil {
			t.Fatalf("upload: %d %v", n, err)
		}
		cut := make([]byte, 64<<10+3)
		rand.Read(cut)
		csha := HexSHA(cut)
		for _, r := range [][2]int{{0, 1000}, {1000, 40001}, {40001, len(cut)}} {
			if n, err := s.Append(ctx, csha, int64(r[0]), int64(len(cut)), "", bytes.NewReader(cut[r[0]:r[1]])); n != int64(r[1]) || err != nil {
				t.Fatalf("piece %v: %d %v", r, n, err)
			}
		}
		for _, b := range [][]byte{page, cut} {
			f, err := s.Open(ctx, HexSHA(b))
			if err != nil {
				t.Fatal(err)
			}
			for _, off := range []int64{int64(len(b)) - 5, 0, 15, 16, 17, 4095, 40000, 12345} {
				if _, err := f.Seek(off, io.SeekStart); err != nil {
					t.Fatalf("seek %d: %v", off, err)
				}
				got := make([]byte, min(int64(3000), int64(len(b))-off))
				if _, err := io.ReadFull(f, got); err != nil {
					t.Fatalf("read at %d: %v", off, err)
				}
				if !bytes.Equal(got, b[off:off+int64(len(got))]) {
					t.Fatalf("bytes at %d differ", off)
				}
			}
			if end, err := f.Seek(0, io.SeekEnd); err != nil || end != int64(len(b)) {
				t.Fatalf("seek to end = %d %v", end, err)
			}
			f.Close()
		}
	})
}

// TestKey is the blob key of a fixed test data key; KeyOf gives others
// (a second key, to open a store with the wrong one).
func TestKey(t testing.TB) *blobseal.Key { return KeyOf(t, 0x42) }

// KeyOf is the blob key of the data key of 32 bytes b.
func KeyOf(t testing.TB, b byte) *blobseal.Key {
	t.Helper()
	k, err := blobseal.NewKey(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Page is a blob of n bytes in which marker recurs, as an ID number
// recurs in a scan's text layer: what must not be found at rest.
func Page(n int, marker string) []byte {
	b := bytes.Repeat([]byte(marker+" "), n/(len(marker)+1)+1)
	return b[:n]
}

// GrepFolder returns the files under root whose bytes contain marker.
func GrepFolder(t *testing.T, root, marker string) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(marker)) {
			hits = append(hits, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

// Walker is a blob store that lists its complete blobs (blobdir, s3blobs).
type Walker interface {
	platform.BlobStore
	Walk(ctx context.Context, fn func(sha string, size int64) error) error
}

// CheckReadable checks that each of blobs is complete in s, reads back
// whole and from an offset (Seek), and is listed by Walk with its size:
// what a store must still do with blobs an older version of it wrote.
func CheckReadable(t *testing.T, s Walker, blobs [][]byte) {
	t.Helper()
	ctx := t.Context()
	for _, b := range blobs {
		sha := HexSHA(b)
		if ok, n, err := s.Complete(ctx, sha); !ok || n != int64(len(b)) || err != nil {
			t.Fatalf("blob %.12s complete = %v %d %v", sha, ok, n, err)
		}
		if got := Read(t, s, sha); !bytes.Equal(got, b) {
			t.Fatalf("blob %.12s reads back wrong", sha)
		}
		f, err := s.Open(ctx, sha)
		if err != nil {
			t.Fatal(err)
		}
		from := int64(len(b) / 3)
		if _, err := f.Seek(from, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, min(100, len(b)-int(from)))
		if _, err := io.ReadFull(f, got); err != nil || !bytes.Equal(got, b[from:from+int64(len(got))]) {
			t.Fatalf("blob %.12s read after a seek: %v", sha, err)
		}
		f.Close()
	}
	walked := map[string]int64{}
	if err := s.Walk(ctx, func(sha string, size int64) error { walked[sha] = size; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, b := range blobs {
		if walked[HexSHA(b)] != int64(len(b)) {
			t.Fatalf("walk: %.12s size %d", HexSHA(b), walked[HexSHA(b)])
		}
	}
}
