package blobdir

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"onedoor/sync/platform"
	"onedoor/sync/platform/blobtest"
)

// The Append cases (whole, resumed, signed or not, wrong bytes, offsets
// and lengths, cut bodies) are blobtest's, which TestConformance runs on a
// Dir; these are the folder's own.

var hexSHA = blobtest.HexSHA

// readBlob reads a complete blob through Open, packed or not.
func readBlob(t testing.TB, d *Dir, sha string) []byte {
	t.Helper()
	return blobtest.Read(t, d, sha)
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
		d, err := Open(t.TempDir(), blobtest.TestKey(t))
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
				body, cs = &blobtest.FailingReader{R: bytes.NewReader(chunk), N: len(chunk) / 2}, ""
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
	d, err := Open(t.TempDir(), blobtest.TestKey(t))
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
