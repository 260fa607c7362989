package s3blobs

import (
	"sync"
	"time"
)

// An intake asks whether each blob it names is complete, and the blob was
// usually stored by the same instance a moment before (a batch carries the
// pages with their submission; a kiosk's PATCH and POST follow each other).
// Asking the bucket costs a signed HTTP round trip on both sides. The
// platform never deletes a complete blob (it is content-addressed and
// only pieces of unfinished uploads are ever removed), so "complete" once
// seen stays true: Complete answers it from memory for knownTTL. The
// bound keeps an instance's memory small; the TTL keeps an operator's
// change to the bucket (a restore, a deleted object) from being hidden
// for long. "Not complete" is never remembered: another instance may
// complete the blob at any moment.
const (
	knownMax = 8192
	knownTTL = 10 * time.Minute
)

type knownBlobs struct {
	max int
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	size  map[string]knownBlob
	order []string // insertion order, oldest first, for eviction
}

type knownBlob struct {
	size int64
	at   time.Time
}

func newKnownBlobs(max int, ttl time.Duration) *knownBlobs {
	return &knownBlobs{max: max, ttl: ttl, now: time.Now, size: map[string]knownBlob{}}
}

func (k *knownBlobs) add(sha string, size int64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.size[sha]; !ok {
		if len(k.order) >= k.max {
			delete(k.size, k.order[0])
			k.order = k.order[1:]
		}
		k.order = append(k.order, sha)
	}
	k.size[sha] = knownBlob{size: size, at: k.now()}
}

func (k *knownBlobs) get(sha string) (int64, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	b, ok := k.size[sha]
	if !ok || k.now().Sub(b.at) > k.ttl {
		return 0, false
	}
	return b.size, true
}
