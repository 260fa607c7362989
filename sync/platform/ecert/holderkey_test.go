package ecert

import (
	"bytes"
	"path/filepath"
	"sync"
	"testing"
)

// TestHolderKeyCreatedOnce: platform instances starting together on one
// key folder (build/cluster) all get the same holder key, or their keyed
// hashes of one ID number would disagree. Each goroutine stands for an
// instance; before the key was created exclusively they raced on one
// temporary name and one of them failed to start.
func TestHolderKeyCreatedOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ecert", "holder.key")
	const n = 16
	keys := make([]HolderKey, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys[i], errs[i] = LoadOrCreateHolderKey(path)
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("instance %d: %v", i, errs[i])
		}
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("instance %d has another holder key", i)
		}
	}
	again, err := LoadOrCreateHolderKey(path)
	if err != nil || !bytes.Equal(again, keys[0]) {
		t.Fatalf("reloaded key differs: %v", err)
	}
}
