package s3blobs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

func TestKnownBlobsBoundAndExpiry(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	k := newKnownBlobs(3, time.Minute)
	k.now = func() time.Time { return now }
	for i := range 4 {
		k.add(fmt.Sprint(i), int64(i))
	}
	if _, ok := k.get("0"); ok {
		t.Fatal("the oldest of 4 entries is still held with room for 3")
	}
	if n, ok := k.get("3"); !ok || n != 3 {
		t.Fatalf("newest entry: %d %v", n, ok)
	}
	now = now.Add(61 * time.Second)
	if _, ok := k.get("3"); ok {
		t.Fatal("an entry older than the TTL answered")
	}
	k.add("3", 3) // seen again: fresh, and not held twice
	if _, ok := k.get("3"); !ok || len(k.order) != 3 {
		t.Fatalf("re-added entry: order %v", k.order)
	}
}

// TestPutCheckedByStore: a PUT carries the bytes' SHA-256, and the object
// store refuses bytes that do not match it, so nothing that fails its
// address is kept even if the platform's own check were skipped.
func TestPutCheckedByStore(t *testing.T) {
	url := gw.Bucket(t)
	s := openURL(t, url)
	data := []byte("page bytes")
	sum := sha256.Sum256([]byte("other bytes"))
	wrong := hex.EncodeToString(sum[:])
	if err := s.put(t.Context(), s.blobKey(wrong), data, wrong); minio.ToErrorResponse(err).Code != "XAmzContentSHA256Mismatch" {
		t.Fatalf("bytes PUT under a hash they do not have: %v", err)
	}
	if ok, _, err := s.Complete(t.Context(), wrong); ok || err != nil {
		t.Fatalf("refused PUT left a blob: %v %v", ok, err)
	}
	sum = sha256.Sum256(data)
	right := hex.EncodeToString(sum[:])
	if n, err := s.Append(t.Context(), right, 0, int64(len(data)), "", bytes.NewReader(data)); err != nil || n != int64(len(data)) {
		t.Fatalf("append: %d %v", n, err)
	}
	// Another instance, which did not store it, finds it in the bucket.
	other := openURL(t, url)
	if ok, n, err := other.Complete(t.Context(), right); !ok || n != int64(len(data)) || err != nil {
		t.Fatalf("complete on another instance: %v %d %v", ok, n, err)
	}
}
