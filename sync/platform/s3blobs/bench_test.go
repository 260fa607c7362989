package s3blobs

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// The cost of the object-store hop per blob, against the real gateway on
// loopback: a 64 KiB page sent whole (Append, one PUT) and the existence
// checks an intake makes (Complete of a blob present and of one absent).
//
//	go test -run '^$' -bench . ./sync/platform/s3blobs/
func BenchmarkAppendWhole64K(b *testing.B) {
	s := openURL(b, gw.Bucket(b))
	page := make([]byte, 64<<10)
	b.SetBytes(int64(len(page)))
	for b.Loop() {
		rand.Read(page[:32])
		sum := sha256.Sum256(page)
		sha := hex.EncodeToString(sum[:])
		if n, err := s.Append(b.Context(), sha, 0, int64(len(page)), "", bytes.NewReader(page)); err != nil || n != int64(len(page)) {
			b.Fatal(n, err)
		}
	}
}

// BenchmarkComplete: a blob this instance stored (answered from memory),
// one another instance stored (the bucket is asked), and one absent.
func BenchmarkComplete(b *testing.B) {
	url := gw.Bucket(b)
	here, other := openURL(b, url), openURL(b, url)
	page := []byte("a page")
	sum := sha256.Sum256(page)
	present := hex.EncodeToString(sum[:])
	if _, err := here.Append(b.Context(), present, 0, int64(len(page)), "", bytes.NewReader(page)); err != nil {
		b.Fatal(err)
	}
	absent := hex.EncodeToString(make([]byte, 32))
	for _, c := range []struct {
		name string
		s    *Store
		sha  string
		ok   bool
	}{{"stored-here", here, present, true}, {"stored-elsewhere", other, present, true}, {"absent", here, absent, false}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				// Forget what other learnt, so each call asks the bucket.
				other.known = newKnownBlobs(knownMax, knownTTL)
				if ok, _, err := c.s.Complete(b.Context(), c.sha); err != nil || ok != c.ok {
					b.Fatal(ok, err)
				}
			}
		})
	}
}

// BenchmarkPut1M: one 1 MiB object, the size of a drained batch's pack.
func BenchmarkPut1M(b *testing.B) {
	s := openURL(b, gw.Bucket(b))
	page := make([]byte, 1<<20)
	b.SetBytes(int64(len(page)))
	for b.Loop() {
		rand.Read(page[:32])
		sum := sha256.Sum256(page)
		sha := hex.EncodeToString(sum[:])
		if err := s.put(b.Context(), s.blobKey(sha), page, sha); err != nil {
			b.Fatal(err)
		}
	}
}
