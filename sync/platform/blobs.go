package platform

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"onedoor/sync/api"
)

// Blob errors the HTTP layer maps to status codes.
var (
	ErrOffsetMismatch = errors.New("upload offset mismatch")
	ErrHashMismatch   = errors.New("blob does not hash to its address")
	ErrBlobTooLong    = errors.New("body goes past Upload-Length")
	ErrChunkHash      = errors.New("chunk does not match its signed content hash")
)

// BlobDir keeps blob bytes in a folder: partial/<sha> while an upload is in
// progress, <sha[:2]>/<sha> once complete. A complete file exists only after
// its SHA-256 was checked, so the folder alone says which blobs are complete
// and survives a crash between any two steps. Writers to one blob are
// serialised by a striped lock.
type BlobDir struct {
	root  string
	locks [64]sync.Mutex
}

// OpenBlobDir creates the folder layout under root.
func OpenBlobDir(root string) (*BlobDir, error) {
	if err := os.MkdirAll(filepath.Join(root, "partial"), 0o700); err != nil {
		return nil, fmt.Errorf("blob folder: %w", err)
	}
	return &BlobDir{root: root}, nil
}

func (d *BlobDir) lock(sha string) *sync.Mutex {
	b, _ := hex.DecodeString(sha[:2])
	return &d.locks[int(b[0])%len(d.locks)]
}

func (d *BlobDir) partialPath(sha string) string { return filepath.Join(d.root, "partial", sha) }

// Path is where a complete blob lives. sha must be validated hex.
func (d *BlobDir) Path(sha string) string { return filepath.Join(d.root, sha[:2], sha) }

// Complete reports whether the blob is stored and verified, and its size.
func (d *BlobDir) Complete(sha string) (bool, int64, error) {
	fi, err := os.Stat(d.Path(sha))
	if errors.Is(err, os.ErrNotExist) {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, fmt.Errorf("blob %s: %w", sha, err)
	}
	return true, fi.Size(), nil
}

// Offset returns how many bytes of the blob the platform holds and whether
// the upload was ever started (HEAD answers 404 when it was not).
func (d *BlobDir) Offset(sha string) (offset int64, started bool, err error) {
	if ok, n, err := d.Complete(sha); err != nil || ok {
		return n, ok, err
	}
	fi, err := os.Stat(d.partialPath(sha))
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("blob %s: %w", sha, err)
	}
	return fi.Size(), true, nil
}

// Missing returns the hashes in shas that are not complete.
func (d *BlobDir) Missing(shas []string) ([]string, error) {
	var out []string
	for _, s := range shas {
		ok, _, err := d.Complete(s)
		if err != nil {
			return nil, err
		}
		if !ok {
			out = append(out, s)
		}
	}
	return out, nil
}

// Append writes body at offset of blob sha whose total size is length.
// chunkSHA is the signed hex SHA-256 of the body, or "" when the kiosk sent
// UNSIGNED-PAYLOAD: then whatever arrives before a dropped link is kept (the
// whole blob is verified at the end anyway); with a signed hash a chunk is
// kept only whole and intact. It returns the new offset, which the caller
// reports even with an error. When the blob reaches length it is verified
// and moved to its final place, or discarded with ErrHashMismatch.
func (d *BlobDir) Append(sha string, offset, length int64, chunkSHA string, body io.Reader) (int64, error) {
	mu := d.lock(sha)
	mu.Lock()
	defer mu.Unlock()

	if ok, n, err := d.Complete(sha); err != nil {
		return 0, err
	} else if ok {
		// Already complete (another kiosk uploaded the same page, or our own
		// earlier 204 was lost): report the end, and a conflict unless the
		// kiosk is also at the end.
		if offset != n {
			return n, ErrOffsetMismatch
		}
		return n, nil
	}
	f, err := os.OpenFile(d.partialPath(sha), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return 0, fmt.Errorf("blob %s: %w", sha, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("blob %s: %w", sha, err)
	}
	cur := fi.Size()
	if offset != cur {
		return cur, ErrOffsetMismatch
	}
	if length < cur {
		return cur, fmt.Errorf("%w: Upload-Length %d below the %d bytes already held", ErrBlobTooLong, length, cur)
	}
	if _, err := f.Seek(cur, io.SeekStart); err != nil {
		return cur, fmt.Errorf("blob %s: %w", sha, err)
	}
	var h, whole hash.Hash
	src := io.LimitReader(body, length-cur+1) // one byte over tells us the body is too long
	if chunkSHA != "" {
		h = sha256.New()
	}
	if cur == 0 {
		// A chunk from offset 0 is the blob's start: hashing it on the way
		// in saves re-reading the file to verify it when it completes in
		// this request (the common case: one PATCH per blob). The chunk
		// hash, when signed, is that same hash.
		whole = h
		if whole == nil {
			whole = sha256.New()
		}
	}
	switch {
	case h != nil:
		src = io.TeeReader(src, h)
	case whole != nil:
		src = io.TeeReader(src, whole)
	}
	n, copyErr := io.Copy(f, src)
	rollback := func(cause error) (int64, error) {
		if err := f.Truncate(cur); err != nil {
			return cur, errors.Join(cause, fmt.Errorf("blob %s: truncate: %w", sha, err))
		}
		return cur, cause
	}
	switch {
	case cur+n > length:
		return rollback(ErrBlobTooLong)
	case copyErr != nil && chunkSHA != "":
		return rollback(fmt.Errorf("blob %s: reading body: %w", sha, copyErr))
	case chunkSHA != "" && hex.EncodeToString(h.Sum(nil)) != chunkSHA:
		return rollback(ErrChunkHash)
	}
	// Make the reported offset durable before the kiosk hears of it.
	if err := f.Sync(); err != nil {
		return rollback(fmt.Errorf("blob %s: sync: %w", sha, err))
	}
	newOff := cur + n
	if copyErr != nil {
		return newOff, fmt.Errorf("blob %s: reading body: %w", sha, copyErr)
	}
	if newOff < length {
		return newOff, nil
	}
	return d.finish(sha, f, newOff, whole)
}

// finish verifies a fully received blob and moves it into place. whole is
// the hash of every byte written, when this request wrote them all; nil
// makes finish hash the file.
func (d *BlobDir) finish(sha string, f *os.File, size int64, whole hash.Hash) (int64, error) {
	if whole == nil {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return size, fmt.Errorf("blob %s: %w", sha, err)
		}
		whole = sha256.New()
		if _, err := io.Copy(whole, f); err != nil {
			return size, fmt.Errorf("blob %s: verify: %w", sha, err)
		}
	}
	if hex.EncodeToString(whole.Sum(nil)) != sha {
		if err := os.Remove(d.partialPath(sha)); err != nil {
			return size, errors.Join(ErrHashMismatch, err)
		}
		return 0, ErrHashMismatch
	}
	dir := filepath.Dir(d.Path(sha))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return size, fmt.Errorf("blob %s: %w", sha, err)
	}
	if err := os.Rename(d.partialPath(sha), d.Path(sha)); err != nil {
		return size, fmt.Errorf("blob %s: %w", sha, err)
	}
	// Only the destination directory is synced: that makes the new name
	// durable, which is all a kiosk is promised. If a crash loses the
	// removal of the partial name instead, the blob is still complete
	// (Offset and Complete look at the final name first) and the stale
	// partial file is removed by PurgePartials; syncing the partial
	// folder as well would cost a third disk flush per blob for nothing.
	if err := syncDir(dir); err != nil {
		return size, err
	}
	return size, nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// Open opens a complete blob for reading.
func (d *BlobDir) Open(sha string) (*os.File, error) {
	f, err := os.Open(d.Path(sha))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	return f, err
}

// PurgePartials removes uploads that have not grown since before cutoff: a
// kiosk that comes back later than that starts the blob again from 0 (HEAD
// answers 404). It returns how many it removed.
func (d *BlobDir) PurgePartials(cutoff time.Time) (int, error) {
	dir := filepath.Join(d.root, "partial")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("purge partial uploads: %w", err)
	}
	n := 0
	for _, e := range entries {
		if !api.IsSHA256Hex(e.Name()) {
			continue
		}
		mu := d.lock(e.Name())
		mu.Lock()
		fi, err := os.Stat(filepath.Join(dir, e.Name()))
		if err == nil && fi.ModTime().Before(cutoff) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err == nil {
				n++
			}
		}
		mu.Unlock()
	}
	return n, nil
}
