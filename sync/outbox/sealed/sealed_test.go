package sealed

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

func testAEAD(t testing.TB, seed byte) []byte {
	return bytes.Repeat([]byte{seed}, 32)
}

func seal(t testing.TB, aead []byte, plain []byte, seg int) ([]byte, []byte) {
	t.Helper()
	id := sha256.Sum256(plain)
	var buf bytes.Buffer
	n, err := Seal(&buf, aead, plain, id[:], seg)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("Seal reported %d bytes, wrote %d", n, buf.Len())
	}
	return buf.Bytes(), id[:]
}

func plaintext(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestRoundTripSizes(t *testing.T) {
	aead := testAEAD(t, 1)
	const seg = 64
	for _, size := range []int{0, 1, seg - 1, seg, seg + 1, 3*seg + 5, 10 * seg} {
		plain := plaintext(size, uint64(size))
		sealedBytes, id := seal(t, aead, plain, seg)
		if got, want := int64(len(sealedBytes)), SealedSize(int64(size), seg); got != want {
			t.Errorf("size %d: sealed %d bytes, SealedSize says %d", size, got, want)
		}
		r, err := NewReader(bytes.NewReader(sealedBytes), int64(len(sealedBytes)), aead, id)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if r.Size() != int64(size) {
			t.Errorf("size %d: Size() = %d", size, r.Size())
		}
		got, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("size %d: ReadAll: %v", size, err)
		}
		if !bytes.Equal(got, plain) {
			t.Errorf("size %d: plaintext differs after round trip", size)
		}
		if bytes.Contains(sealedBytes, plain[:min(size, 16)]) && size >= 16 {
			t.Errorf("size %d: plaintext visible in sealed bytes", size)
		}
	}
}

func TestReadAtAnyOffset(t *testing.T) {
	aead := testAEAD(t, 2)
	const seg = 100
	plain := plaintext(1234, 7)
	sb, id := seal(t, aead, plain, seg)
	r, err := NewReader(bytes.NewReader(sb), int64(len(sb)), aead, id)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ off, n int }{
		{0, 10}, {99, 2}, {100, 100}, {150, 300}, {1200, 34}, {1233, 1}, {0, 1234}, {777, 0},
	}
	for _, tc := range tests {
		buf := make([]byte, tc.n)
		n, err := r.ReadAt(buf, int64(tc.off))
		if err != nil || n != tc.n {
			t.Errorf("ReadAt(%d,%d) = %d, %v", tc.off, tc.n, n, err)
		}
		if !bytes.Equal(buf[:n], plain[tc.off:tc.off+n]) {
			t.Errorf("ReadAt(%d,%d): wrong bytes", tc.off, tc.n)
		}
	}
	// Past the end: short read with io.EOF, like os.File.
	buf := make([]byte, 10)
	n, err := r.ReadAt(buf, 1230)
	if n != 4 || !errors.Is(err, io.EOF) {
		t.Errorf("ReadAt past end = %d, %v; want 4, EOF", n, err)
	}
	// Seek then Read, as an upload resumed at an offset does.
	if _, err := r.Seek(555, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(rest, plain[555:]) {
		t.Errorf("Seek(555)+ReadAll: %d bytes, err %v", len(rest), err)
	}
}

// countingReaderAt records which byte ranges a Reader fetched, to show that a
// read at an offset touches only the segments it needs.
type countingReaderAt struct {
	r     io.ReaderAt
	bytes int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.bytes += int64(n)
	return n, err
}

func TestReadAtDecryptsOnlyNeededSegments(t *testing.T) {
	aead := testAEAD(t, 3)
	const seg = 1024
	plain := plaintext(100*seg, 9)
	sb, id := seal(t, aead, plain, seg)
	c := &countingReaderAt{r: bytes.NewReader(sb)}
	r, err := NewReader(c, int64(len(sb)), aead, id)
	if err != nil {
		t.Fatal(err)
	}
	c.bytes = 0
	buf := make([]byte, 10)
	if _, err := r.ReadAt(buf, 90*seg+5); err != nil {
		t.Fatal(err)
	}
	if c.bytes != seg+tagSize {
		t.Errorf("reading 10 bytes at segment 90 fetched %d bytes, want one segment (%d)", c.bytes, seg+tagSize)
	}
}

func TestTamperDetected(t *testing.T) {
	aead := testAEAD(t, 4)
	const seg = 32
	plain := plaintext(100, 11)
	sb, id := seal(t, aead, plain, seg)
	readAll := func(b []byte, key []byte, cid []byte) error {
		r, err := NewReader(bytes.NewReader(b), int64(len(b)), key, cid)
		if err != nil {
			return err
		}
		_, err = io.ReadAll(r)
		return err
	}
	if err := readAll(sb, aead, id); err != nil {
		t.Fatalf("untouched blob: %v", err)
	}
	// Every single-bit flip anywhere in the file must be caught.
	for i := range sb {
		bad := bytes.Clone(sb)
		bad[i] ^= 0x10
		if err := readAll(bad, aead, id); err == nil {
			t.Fatalf("flip at byte %d not detected", i)
		}
	}
	other := plaintext(100, 12)
	otherSealed, otherID := seal(t, aead, other, seg)
	swapped := bytes.Clone(sb)
	copy(swapped[HeaderSize+seg+tagSize:], otherSealed[HeaderSize+seg+tagSize:HeaderSize+2*(seg+tagSize)])
	reordered := bytes.Clone(sb)
	copy(reordered[HeaderSize:], sb[HeaderSize+seg+tagSize:HeaderSize+2*(seg+tagSize)])
	copy(reordered[HeaderSize+seg+tagSize:], sb[HeaderSize:HeaderSize+seg+tagSize])
	tests := []struct {
		name string
		data []byte
		aead []byte
		id   []byte
		want error
	}{
		{"truncated", sb[:len(sb)-1], aead, id, ErrCorrupt},
		{"truncated to last whole segment", sb[:HeaderSize+3*(seg+tagSize)], aead, id, ErrCorrupt},
		{"extended", append(bytes.Clone(sb), 0), aead, id, ErrCorrupt},
		{"segment from another blob", swapped, aead, id, ErrCorrupt},
		{"segments reordered", reordered, aead, id, ErrCorrupt},
		{"wrong key", sb, testAEAD(t, 5), id, ErrCorrupt},
		{"renamed to another address", otherSealed, aead, id, ErrCorrupt},
		{"other blob, other address", otherSealed, aead, otherID, nil},
		{"empty file", nil, aead, id, ErrFormat},
		{"not a blob", bytes.Repeat([]byte("x"), 200), aead, id, ErrFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := readAll(tc.data, tc.aead, tc.id)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSealRejectsBadArguments(t *testing.T) {
	aead := testAEAD(t, 6)
	id := make([]byte, 32)
	if _, err := Seal(io.Discard, aead, []byte("x"), id, MaxSegmentSize+1); err == nil {
		t.Error("oversized segment accepted")
	}
	if _, err := Seal(io.Discard, aead, []byte("x"), id[:5], 0); err == nil {
		t.Error("short content id accepted")
	}
	if _, err := Seal(io.Discard, aead[:16], []byte("x"), id, 0); err == nil {
		t.Error("short key accepted")
	}
}

// FuzzReader feeds arbitrary files to the reader: it must never panic and
// never hand out plaintext for bytes that were not sealed under the key.
func FuzzReader(f *testing.F) {
	aead := testAEAD(f, 7)
	plain := []byte("一门通 fuzz seed plaintext, long enough for three segments of 16")
	id := sha256.Sum256(plain)
	var buf bytes.Buffer
	if _, err := Seal(&buf, aead, plain, id[:], 16); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes(), int64(0))
	f.Add(buf.Bytes()[:HeaderSize], int64(3))
	f.Add([]byte("ODSB\x01\x00\x00\x00\x00\x00\x00\x10"), int64(1))
	f.Fuzz(func(t *testing.T, data []byte, off int64) {
		r, err := NewReader(bytes.NewReader(data), int64(len(data)), aead, id[:])
		if err != nil {
			return
		}
		if off < 0 {
			off = -off
		}
		p := make([]byte, 100)
		n, err := r.ReadAt(p, off%(r.Size()+1))
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		// Only the genuine blob authenticates; anything that does must
		// decrypt to the genuine plaintext.
		if err == nil || n > 0 {
			all, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
			if err == nil && !bytes.Equal(all, plain) {
				t.Fatalf("forged blob decrypted to %q", all)
			}
		}
	})
}

// FuzzRoundTrip checks that any plaintext at any segment size comes back
// unchanged from any offset.
func FuzzRoundTrip(f *testing.F) {
	aead := testAEAD(f, 8)
	f.Add([]byte("hello"), uint16(1), uint16(0))
	f.Add(bytes.Repeat([]byte{0}, 1000), uint16(7), uint16(999))
	f.Fuzz(func(t *testing.T, plain []byte, seg, off uint16) {
		segSize := int(seg)%4096 + 1
		id := sha256.Sum256(plain)
		var buf bytes.Buffer
		if _, err := Seal(&buf, aead, plain, id[:], segSize); err != nil {
			t.Fatal(err)
		}
		r, err := NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()), aead, id[:])
		if err != nil {
			t.Fatal(err)
		}
		o := int64(off) % (int64(len(plain)) + 1)
		got, err := io.ReadAll(io.NewSectionReader(r, o, r.Size()-o))
		if err != nil || !bytes.Equal(got, plain[o:]) {
			t.Fatalf("offset %d: got %d bytes, err %v", o, len(got), err)
		}
	})
}

// TestParallelReadAt: io.ReaderAt allows parallel calls; each must get its
// own bytes (run with -race).
func TestParallelReadAt(t *testing.T) {
	aead := testAEAD(t, 9)
	const seg = 256
	plain := plaintext(50*seg+17, 13)
	sb, id := seal(t, aead, plain, seg)
	r, err := NewReader(bytes.NewReader(sb), int64(len(sb)), aead, id)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	for g := range 4 {
		go func() {
			buf := make([]byte, 300)
			for i := range 200 {
				off := int64((g*997 + i*131) % (len(plain) - len(buf)))
				if _, err := r.ReadAt(buf, off); err != nil {
					done <- err
					return
				}
				if !bytes.Equal(buf, plain[off:off+int64(len(buf))]) {
					done <- errors.New("wrong bytes")
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// TestPerBlobKeys: blobs whose random prefixes happen to collide still use
// different keys (the key also depends on the content), so a nonce is never
// reused under one key for two different plaintexts.
func TestPerBlobKeys(t *testing.T) {
	key := testAEAD(t, 10)
	h1 := &Header{SegmentSize: 16, Size: 1}
	h2 := &Header{SegmentSize: 16, Size: 1}
	h2.id[0] = 1 // same prefix (all zero), other content
	a1, err := blobAEAD(key, h1)
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := blobAEAD(key, h2)
	a1again, _ := blobAEAD(key, h1)
	nonce := make([]byte, 12)
	msg := []byte("same message")
	if bytes.Equal(a1.Seal(nil, nonce, msg, nil), a2.Seal(nil, nonce, msg, nil)) {
		t.Error("blobs with colliding prefixes share a key")
	}
	if !bytes.Equal(a1.Seal(nil, nonce, msg, nil), a1again.Seal(nil, nonce, msg, nil)) {
		t.Error("key derivation is not deterministic")
	}
	// Sealing the same plaintext twice gives different files (fresh prefix).
	plain := []byte("identical plaintext")
	s1, _ := seal(t, key, plain, 0)
	s2, _ := seal(t, key, plain, 0)
	if bytes.Equal(s1, s2) {
		t.Error("two seals of one plaintext are byte-identical")
	}
}

// TestSealSegmentsIsSealSplit: the header and segments SealSegments returns
// sit where StreamOffset says and, put back together, read like any sealed
// blob (the outbox keeps them as database rows and reads them back so).
func TestSealSegmentsIsSealSplit(t *testing.T) {
	key := testAEAD(t, 3)
	const seg = 64
	for _, size := range []int{0, 1, seg, seg + 1, 3*seg + 5} {
		plain := plaintext(size, uint64(size)+7)
		id := sha256.Sum256(plain)
		header, segs, err := SealSegments(key, plain, id[:], seg)
		if err != nil {
			t.Fatal(err)
		}
		h, err := ParseHeader(header)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(segs)) != h.Segments() {
			t.Fatalf("size %d: %d segments, header says %d", size, len(segs), h.Segments())
		}
		stream := bytes.Clone(header)
		for i, s := range segs {
			if int64(len(stream)) != h.StreamOffset(int64(i)) {
				t.Errorf("size %d: segment %d at %d, StreamOffset says %d", size, i, len(stream), h.StreamOffset(int64(i)))
			}
			stream = append(stream, s...)
		}
		if int64(len(stream)) != SealedSize(int64(size), seg) {
			t.Errorf("size %d: %d bytes in all, SealedSize says %d", size, len(stream), SealedSize(int64(size), seg))
		}
		r, err := NewReader(bytes.NewReader(stream), int64(len(stream)), key, id[:])
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, plain) {
			t.Errorf("size %d: read back %d bytes, %v", size, len(got), err)
		}
		if len(segs) > 1 {
			// Two segments swapped fail, as in a file.
			swapped := bytes.Clone(header)
			swapped = append(swapped, segs[1]...)
			swapped = append(swapped, segs[0]...)
			for _, s := range segs[2:] {
				swapped = append(swapped, s...)
			}
			if r, err := NewReader(bytes.NewReader(swapped), int64(len(swapped)), key, id[:]); err == nil {
				if _, err := io.ReadAll(r); !errors.Is(err, ErrCorrupt) {
					t.Errorf("size %d: swapped segments read: %v", size, err)
				}
			} else if !errors.Is(err, ErrCorrupt) {
				t.Errorf("size %d: swapped segments: %v", size, err)
			}
		}
	}
}
