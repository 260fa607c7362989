package blobseal

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"testing"
)

func testKey(t testing.TB, b byte) *Key {
	t.Helper()
	k, err := NewKey(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestXORAtAnyOffset: encrypting a blob in pieces of any size at their
// offsets gives the same ciphertext as encrypting it whole, which is what
// lets a kiosk resume an upload anywhere.
func TestXORAtAnyOffset(t *testing.T) {
	k := testKey(t, 1)
	plain := bytes.Repeat([]byte("0123456789abcdefXYZ"), 1000)
	addr := sha(plain)
	unit, err := k.Seal(addr, plain)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(unit, []byte("0123456789")) {
		t.Fatal("plaintext visible in the sealed unit")
	}
	h, err := ParseHeader(unit)
	if err != nil {
		t.Fatal(err)
	}
	s, err := k.Stream(addr, h)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(plain))
	for off, step := 0, 1; off < len(plain); step = step*3%97 + 1 {
		end := min(off+step, len(plain))
		s.XORAt(got[off:end], plain[off:end], int64(off))
		off = end
	}
	if !bytes.Equal(got, unit[HeaderSize:]) {
		t.Fatal("pieces encrypt differently from the whole")
	}
	back, err := k.Open(addr, unit)
	if err != nil || !bytes.Equal(back, plain) {
		t.Fatalf("open: %v", err)
	}
}

func TestReaderSeeks(t *testing.T) {
	k := testKey(t, 2)
	plain := bytes.Repeat([]byte("page "), 3001)
	addr := sha(plain)
	unit, _ := k.Seal(addr, plain)
	s, err := k.OpenAt(addr, bytes.NewReader(unit), 0)
	if err != nil {
		t.Fatal(err)
	}
	r := s.Reader(bytes.NewReader(unit), HeaderSize, int64(len(plain)))
	for _, off := range []int64{0, 7, 15, 16, 17, 4095, int64(len(plain)) - 3} {
		if _, err := r.Seek(off, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 40)
		n, err := io.ReadFull(r, buf)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatal(err)
		}
		if !bytes.Equal(buf[:n], plain[off:min(off+40, int64(len(plain)))]) {
			t.Fatalf("at %d: %q", off, buf[:n])
		}
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	all, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(all, plain) {
		t.Fatalf("read all: %v", err)
	}
	// A unit cut short says so instead of ending quietly.
	short := s.Reader(bytes.NewReader(unit[:len(unit)-10]), HeaderSize, int64(len(plain)))
	if _, err := io.ReadAll(short); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short unit: %v", err)
	}
}

func TestWriterAtOffset(t *testing.T) {
	k := testKey(t, 3)
	plain := bytes.Repeat([]byte("household register "), 500)
	addr := sha(plain)
	h, _ := k.NewHeader()
	s, _ := k.Stream(addr, h)
	var f fileBuf
	f.WriteAt(h.Marshal(), 0)
	for _, cut := range [][2]int{{0, 5}, {5, 4000}, {4000, len(plain)}} {
		if _, err := s.Writer(&f, HeaderSize, int64(cut[0])).Write(plain[cut[0]:cut[1]]); err != nil {
			t.Fatal(err)
		}
	}
	got, err := k.Open(addr, f.b)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("written in pieces, read whole: %v", err)
	}
}

type fileBuf struct{ b []byte }

func (f *fileBuf) WriteAt(p []byte, off int64) (int, error) {
	if need := int(off) + len(p); need > len(f.b) {
		f.b = append(f.b, make([]byte, need-len(f.b))...)
	}
	return copy(f.b[off:], p), nil
}

// TestWrongKey: a unit sealed under one data key is refused under another
// (a lost key file replaced by a new one), and so is a store's check value.
func TestWrongKey(t *testing.T) {
	a, b := testKey(t, 4), testKey(t, 5)
	plain := []byte("ID card")
	unit, _ := a.Seal(sha(plain), plain)
	if _, err := b.Open(sha(plain), unit); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("other key: %v", err)
	}
	if err := b.VerifyCheck(a.Check()); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("other key's check: %v", err)
	}
	if err := a.VerifyCheck(a.Check()); err != nil {
		t.Fatal(err)
	}
	if _, err := NewKey(nil); err == nil {
		t.Fatal("no data key accepted")
	}
}

// TestNoncePerUnit: sealing the same page twice gives unrelated
// ciphertexts (a fresh nonce each time), so no key stream is reused.
func TestNoncePerUnit(t *testing.T) {
	k := testKey(t, 6)
	plain := bytes.Repeat([]byte{0}, 64)
	u1, _ := k.Seal(sha(plain), plain)
	u2, _ := k.Seal(sha(plain), plain)
	if bytes.Equal(u1[HeaderSize:], u2[HeaderSize:]) {
		t.Fatal("same key stream twice")
	}
}

// FuzzUnit: any bytes read back from a disk or a bucket either parse as a
// unit and decrypt (to whatever), or are refused; nothing panics.
func FuzzUnit(f *testing.F) {
	k := testKey(f, 7)
	plain := []byte("scan")
	unit, _ := k.Seal(sha(plain), plain)
	f.Add(unit)
	f.Add(unit[:HeaderSize-1])
	f.Add([]byte("ODSB\x02\x00\x00\x00"))
	f.Add(plain)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err != nil {
			if !errors.Is(err, ErrHeader) {
				t.Fatalf("parse error %v is not ErrHeader", err)
			}
			return
		}
		if !bytes.Equal(h.Marshal(), b[:HeaderSize]) {
			t.Fatal("header does not encode back to its bytes")
		}
		got, err := k.Open(sha(plain), b)
		if err != nil {
			if !errors.Is(err, ErrWrongKey) {
				t.Fatal(err)
			}
			return
		}
		if len(got) != len(b)-HeaderSize {
			t.Fatal("plaintext length differs from the ciphertext's")
		}
	})
}

// BenchmarkSeal64K: sealing one 64 KiB page (key derivation, a fresh
// nonce, AES-256-CTR), the cost each stored page pays once.
//
//	go test -run '^$' -bench . ./sync/platform/blobseal/
func BenchmarkSeal64K(b *testing.B) {
	k := testKey(b, 9)
	page := bytes.Repeat([]byte("scan"), 16<<10)
	addr := sha(page)
	b.SetBytes(int64(len(page)))
	for b.Loop() {
		if _, err := k.Seal(addr, page); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkXORAt64K: the keystream alone, at an unaligned offset, as an
// appended chunk or a seeking reader pays it.
func BenchmarkXORAt64K(b *testing.B) {
	k := testKey(b, 9)
	page := bytes.Repeat([]byte("scan"), 16<<10)
	h, _ := k.NewHeader()
	s, err := k.Stream(sha(page), h)
	if err != nil {
		b.Fatal(err)
	}
	out := make([]byte, len(page))
	b.SetBytes(int64(len(page)))
	for b.Loop() {
		s.XORAt(out, page, 12345)
	}
}
