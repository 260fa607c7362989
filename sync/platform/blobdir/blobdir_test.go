package blobdir

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"onedoor/sync/platform"
)

func hexSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// failingReader yields n bytes of r and then fails, like a dropped link.
type failingReader struct {
	r io.Reader
	n int
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("connection reset")
	}
	if len(p) > f.n {
		p = p[:f.n]
	}
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}

func TestAppendCases(t *testing.T) {
	data := []byte("0123456789")
	sha := hexSHA(data)
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
		{name: "whole, signed", offset: 0, length: 10, chunkSHA: hexSHA, body: bytes.NewReader(data), wantOff: 10, complete: true},
		{name: "whole, unsigned", offset: 0, length: 10, body: bytes.NewReader(data), wantOff: 10, complete: true},
		// From offset 0 the blob is verified with the hash taken as the
		// bytes arrive, not by re-reading: wrong bytes must still fail.
		{name: "whole, unsigned, wrong bytes", offset: 0, length: 10, body: strings.NewReader("0123456780"), wantOff: 0, wantErr: platform.ErrHashMismatch},
		{name: "whole, signed, wrong bytes", offset: 0, length: 10, chunkSHA: func([]byte) string { return hexSHA([]byte("0123456780")) }, body: strings.NewReader("0123456780"), wantOff: 0, wantErr: platform.ErrHashMismatch},
		{name: "resume, unsigned, wrong bytes", prefix: 4, offset: 4, length: 10, body: strings.NewReader("456780"), wantOff: 0, wantErr: platform.ErrHashMismatch},
		{name: "resume, unsigned", prefix: 4, offset: 4, length: 10, body: bytes.NewReader(data[4:]), wantOff: 10, complete: true},
		{name: "wrong offset", prefix: 4, offset: 6, length: 10, body: bytes.NewReader(data[6:]), wantOff: 4, wantErr: platform.ErrOffsetMismatch},
		{name: "too long", offset: 0, length: 10, body: bytes.NewReader(append(data, 'x')), wantOff: 0, wantErr: platform.ErrBlobTooLong},
		{name: "length below held", prefix: 6, offset: 6, length: 5, body: bytes.NewReader(nil), wantOff: 6, wantErr: platform.ErrBlobTooLong},
		{name: "signed chunk corrupted", offset: 0, length: 10, chunkSHA: func([]byte) string { return hexSHA([]byte("other")) }, body: bytes.NewReader(data), wantOff: 0, wantErr: platform.ErrChunkHash},
		{name: "signed chunk cut", offset: 0, length: 10, chunkSHA: hexSHA, body: &failingReader{r: bytes.NewReader(data), n: 7}, wantOff: 0, wantErr: errAny},
		{name: "unsigned chunk cut keeps bytes", offset: 0, length: 10, body: &failingReader{r: bytes.NewReader(data), n: 7}, wantOff: 7, wantErr: errAny},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if tc.prefix > 0 {
				if _, err := d.Append(t.Context(), sha, 0, 10, "", bytes.NewReader(data[:tc.prefix])); err != nil {
					t.Fatal(err)
				}
			}
			cs := ""
			if tc.chunkSHA != nil {
				cs = tc.chunkSHA(data[tc.offset:])
			}
			off, err := d.Append(t.Context(), sha, tc.offset, tc.length, cs, tc.body)
			if off != tc.wantOff || (tc.wantErr == nil) != (err == nil) || (tc.wantErr != nil && tc.wantErr != errAny && !errors.Is(err, tc.wantErr)) {
				t.Fatalf("Append = %d, %v; want %d, %v", off, err, tc.wantOff, tc.wantErr)
			}
			if got, _, _ := d.Offset(t.Context(), sha); got != tc.wantOff {
				t.Fatalf("Offset after = %d, want %d", got, tc.wantOff)
			}
			done, _, _ := d.Complete(t.Context(), sha)
			if done != tc.complete {
				t.Fatalf("complete = %v", done)
			}
			if done {
				b := readBlob(t, d, sha)
				if !bytes.Equal(b, data) {
					t.Fatalf("stored %q", b)
				}
			}
		})
	}
}

var errAny = errors.New("any error")

// readBlob reads a complete blob through Open, packed or not.
func readBlob(t testing.TB, d *Dir, sha string) []byte {
	t.Helper()
	f, err := d.Open(t.Context(), sha)
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

// FuzzBlobAppend drives uploads in random chunks, with random wrong offsets,
// cut bodies and (sometimes) a wrong address: a blob may only ever become
// complete holding exactly the bytes that hash to its address, and the
// reported offset never runs past what was sent.
func FuzzBlobAppend(f *testing.F) {
	f.Add([]byte("hello world, a scanned page"), []byte{5, 0x85, 3, 40, 7}, false)
	f.Add([]byte("x"), []byte{1}, true)
	f.Add(bytes.Repeat([]byte{0}, 300), []byte{0x40, 0xc0, 200, 100}, false)
	f.Fuzz(func(t *testing.T, data []byte, plan []byte, wrongAddr bool) {
		if len(data) == 0 || len(plan) > 64 {
			return
		}
		d, err := Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		sha := hexSHA(data)
		if wrongAddr {
			sha = hexSHA(append([]byte("not "), data...))
		}
		var off int64
		for _, p := range plan {
			size := int64(p & 0x3f)
			sendOff := off
			if p&0x40 != 0 && off > 0 {
				sendOff = off - 1 // a stale offset
			}
			end := min(sendOff+size, int64(len(data)))
			chunk := data[sendOff:end]
			var body io.Reader = bytes.NewReader(chunk)
			cs := hexSHA(chunk)
			if p&0x80 != 0 {
				body, cs = &failingReader{r: bytes.NewReader(chunk), n: len(chunk) / 2}, ""
			}
			got, err := d.Append(t.Context(), sha, sendOff, int64(len(data)), cs, body)
			if sendOff != off && !errors.Is(err, platform.ErrOffsetMismatch) {
				t.Fatalf("stale offset %d (held %d) accepted: %v", sendOff, off, err)
			}
			if got < 0 || got > int64(len(data)) || (err == nil && got != end) {
				t.Fatalf("offset %d after sending [%d,%d) err %v", got, sendOff, end, err)
			}
			if errors.Is(err, platform.ErrHashMismatch) {
				if !wrongAddr {
					t.Fatal("correct bytes reported as a hash mismatch")
				}
				got = 0
			}
			off = got
			if done, _, _ := d.Complete(t.Context(), sha); done {
				b := readBlob(t, d, sha)
				if wrongAddr || !bytes.Equal(b, data) {
					t.Fatalf("completed blob holds wrong bytes (wrongAddr=%v)", wrongAddr)
				}
				return
			}
		}
	})
}

func TestPurgePartials(t *testing.T) {
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	old, fresh, done := []byte("old partial!"), []byte("fresh partial"), []byte("complete")
	for _, b := range [][]byte{old, fresh} {
		if _, err := d.Append(t.Context(), hexSHA(b), 0, int64(len(b)), "", bytes.NewReader(b[:4])); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Append(t.Context(), hexSHA(done), 0, int64(len(done)), "", bytes.NewReader(done)); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := os.Chtimes(d.partialPath(hexSHA(old)), now.Add(-8*24*time.Hour), now.Add(-8*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	n, err := d.PurgePartials(t.Context(), now.Add(-7*24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("purged %d, %v", n, err)
	}
	for _, tc := range []struct {
		b       []byte
		started bool
	}{{old, false}, {fresh, true}, {done, true}} {
		if _, started, _ := d.Offset(t.Context(), hexSHA(tc.b)); started != tc.started {
			t.Errorf("%q started = %v, want %v", tc.b, started, tc.started)
		}
	}
}
