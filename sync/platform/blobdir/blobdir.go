// Package blobdir keeps the platform's blobs (scanned pages) in a local
// folder: small blobs that arrive whole go to pack files, others through a
// partial file to a file of their own. It implements platform.BlobStore for
// the embedded default platform (one instance, one disk), as tusd's
// filestore sits apart from its HTTP handler.
//
// Every byte of a page is kept encrypted under a key derived from the
// platform's data key, by the rule of sync/platform/blobseal: files of
// their own and partial uploads under sealed/, records of type "ODS1" in
// the pack files. A folder written before sealing upgrades in place when
// opened with the key: its plaintext blobs (<sha[:2]>/<sha>, "ODB1" pack
// records) stay readable where they are and are never written again, and
// its plaintext partial uploads are sealed before anything else runs, so
// an upload in progress continues at its offset. The folder's key check
// (sealed/KEYCHECK) makes a platform started with another or a new key
// fail at once instead of sealing new pages under it.
package blobdir

import (
	"bytes"
	"context"
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

	"onedoor/internal/atomicfile"
	"onedoor/sync/api"
	"onedoor/sync/platform"
	"onedoor/sync/platform/blobseal"
)

// Dir keeps blob bytes in a folder. A blob that arrives whole in one
// request and is at most packMax bytes is appended to a pack file under
// packs/ and indexed there (see pack.go); any other upload lives in
// sealed/partial/<sha> while in progress and moves to sealed/<sha[:2]>/<sha>
// once complete (each file a blobseal unit). A blob is complete only after its SHA-256 was checked, in
// either form, so the folder alone says which blobs are complete and
// survives a crash between any two steps. Writers to one blob are
// serialised by a striped lock.
type Dir struct {
	root  string
	key   *blobseal.Key
	packs *packStore
	locks [64]sync.Mutex
}

// sealedDir holds the sealed files of their own, beside the plaintext
// ones a folder from before sealing may hold.
const sealedDir = "sealed"

// Open creates the folder layout under root, with key (from the platform's
// data key) sealing every page written and opening those read. A nil key
// is an error: the folder never falls back to plaintext. Close it when
// done.
func Open(root string, key *blobseal.Key) (*Dir, error) {
	if key == nil {
		return nil, fmt.Errorf("blob folder %s: %w", root, blobseal.ErrNoKey)
	}
	if err := os.MkdirAll(filepath.Join(root, sealedDir, "partial"), 0o700); err != nil {
		return nil, fmt.Errorf("blob folder: %w", err)
	}
	d := &Dir{root: root, key: key}
	// The key is checked before the packs are recovered, which trust it.
	if err := d.checkKey(); err != nil {
		return nil, err
	}
	packs, err := openPackStore(filepath.Join(root, "packs"), key)
	if err != nil {
		return nil, fmt.Errorf("blob folder: %w", err)
	}
	d.packs = packs
	if err := d.sealLegacyPartials(); err != nil {
		packs.close()
		return nil, err
	}
	return d, nil
}

// checkKey compares the folder's key check with key's, writing it the
// first time (a new folder, or one from before sealing).
func (d *Dir) checkKey() error {
	path := filepath.Join(d.root, sealedDir, "KEYCHECK")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		err = atomicfile.WriteNew(path, []byte(d.key.Check()+"\n"), 0o600)
		if errors.Is(err, os.ErrExist) {
			// Another process got there first; compare with its.
			b, err = os.ReadFile(path)
		} else if err == nil {
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("blob folder: key check: %w", err)
	}
	if err := d.key.VerifyCheck(string(bytes.TrimSpace(b))); err != nil {
		return fmt.Errorf("blob folder %s: %w", d.root, err)
	}
	return nil
}

// sealLegacyPartials seals the plaintext partial uploads a folder from
// before sealing holds (partial/<sha>), so their kiosks continue at the
// offset they had and no upload finishes in plaintext. Each is written
// sealed beside, synced, renamed into place, and only then removed: a
// crash in between leaves both, and the next open seals it again.
func (d *Dir) sealLegacyPartials() error {
	dir := filepath.Join(d.root, "partial")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("blob folder: %w", err)
	}
	for _, e := range entries {
		if !api.IsSHA256Hex(e.Name()) {
			continue
		}
		if err := d.sealLegacyPartial(filepath.Join(dir, e.Name()), e.Name()); err != nil {
			return fmt.Errorf("blob folder: sealing the partial upload %s: %w", e.Name(), err)
		}
	}
	return nil
}

func (d *Dir) sealLegacyPartial(path, sha string) error {
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	tmp := d.partialPath(sha) + ".tmp"
	dst, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer dst.Close()
	st, err := d.newUnit(dst, sha)
	if err != nil {
		return err
	}
	if _, err := io.Copy(st.Writer(dst, blobseal.HeaderSize, 0), src); err != nil {
		return err
	}
	if err := dst.Sync(); err != nil {
		return err
	}
	if err := os.Rename(tmp, d.partialPath(sha)); err != nil {
		return err
	}
	if err := atomicfile.SyncDir(filepath.Dir(d.partialPath(sha))); err != nil {
		return err
	}
	return os.Remove(path)
}

// newUnit writes a fresh blobseal header at the start of f, which must be
// empty, and returns its stream for blob sha.
func (d *Dir) newUnit(f *os.File, sha string) (*blobseal.Stream, error) {
	h, err := d.key.NewHeader()
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteAt(h.Marshal(), 0); err != nil {
		return nil, err
	}
	return d.key.Stream(sha, h)
}

// Close stops the pack writer and closes the pack index. Uploads still in
// flight fail.
func (d *Dir) Close() error { return d.packs.close() }

func (d *Dir) lock(sha string) *sync.Mutex {
	b, _ := hex.DecodeString(sha[:2])
	return &d.locks[int(b[0])%len(d.locks)]
}

func (d *Dir) partialPath(sha string) string {
	return filepath.Join(d.root, sealedDir, "partial", sha)
}

// path is where a complete blob lives when it is not packed. sha must be
// validated hex.
func (d *Dir) path(sha string) string { return filepath.Join(d.root, sealedDir, sha[:2], sha) }

// legacyPath is where a folder from before sealing kept a complete blob in
// plaintext; it is read, never written.
func (d *Dir) legacyPath(sha string) string { return filepath.Join(d.root, sha[:2], sha) }

// Complete reports whether the blob is stored and verified, and its size.
func (d *Dir) Complete(ctx context.Context, sha string) (bool, int64, error) {
	if l, ok, err := d.packs.lookup(sha); err != nil || ok {
		return ok, l.size, err
	}
	for _, p := range []struct {
		path   string
		header int64
	}{{d.path(sha), blobseal.HeaderSize}, {d.legacyPath(sha), 0}} {
		fi, err := os.Stat(p.path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return false, 0, fmt.Errorf("blob %s: %w", sha, err)
		}
		return true, max(fi.Size()-p.header, 0), nil
	}
	return false, 0, nil
}

// Offset returns how many bytes of the blob the platform holds and whether
// the upload was ever started (HEAD answers 404 when it was not).
func (d *Dir) Offset(ctx context.Context, sha string) (offset int64, started bool, err error) {
	if ok, n, err := d.Complete(ctx, sha); err != nil || ok {
		return n, ok, err
	}
	fi, err := os.Stat(d.partialPath(sha))
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("blob %s: %w", sha, err)
	}
	// A file shorter than its header was cut before its header was
	// durable: it holds nothing yet (Append writes a new header).
	return max(fi.Size()-blobseal.HeaderSize, 0), true, nil
}

// Missing returns the hashes in shas that are not complete.
func (d *Dir) Missing(ctx context.Context, shas []string) ([]string, error) {
	var out []string
	for _, s := range shas {
		ok, _, err := d.Complete(ctx, s)
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
// and moved to its final place, or discarded with platform.ErrHashMismatch.
func (d *Dir) Append(ctx context.Context, sha string, offset, length int64, chunkSHA string, body io.Reader) (int64, error) {
	mu := d.lock(sha)
	mu.Lock()
	defer mu.Unlock()

	if ok, n, err := d.Complete(ctx, sha); err != nil {
		return 0, err
	} else if ok {
		// Already complete (another kiosk uploaded the same page, or our own
		// earlier 204 was lost): report the end, and a conflict unless the
		// kiosk is also at the end.
		if offset != n {
			return n, platform.ErrOffsetMismatch
		}
		return n, nil
	}
	if offset == 0 && length <= packMax && !d.partialExists(sha) {
		data, rest, whole, err := readWhole(body, length)
		if err != nil {
			return 0, err
		}
		if whole {
			return d.packWhole(sha, data, chunkSHA)
		}
		// Only part of the blob came (a client sending it in pieces, or
		// a dropped link): keep it as a partial upload, as if it had
		// been streamed to the file.
		body = rest
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
	// The partial file is one blobseal unit: its header (a fresh nonce)
	// is written when the upload starts and kept while it resumes, so
	// plaintext byte p always lands at HeaderSize+p.
	var st *blobseal.Stream
	if fi.Size() < blobseal.HeaderSize {
		if err := f.Truncate(0); err != nil {
			return 0, fmt.Errorf("blob %s: %w", sha, err)
		}
		st, err = d.newUnit(f, sha)
	} else {
		st, err = d.key.OpenAt(sha, f, 0)
	}
	if err != nil {
		return 0, fmt.Errorf("blob %s: partial upload: %w", sha, err)
	}
	cur := max(fi.Size()-blobseal.HeaderSize, 0)
	if offset != cur {
		return cur, platform.ErrOffsetMismatch
	}
	if length < cur {
		return cur, fmt.Errorf("%w: Upload-Length %d below the %d bytes already held", platform.ErrBlobTooLong, length, cur)
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
	n, copyErr := io.Copy(st.Writer(f, blobseal.HeaderSize, cur), src)
	rollback := func(cause error) (int64, error) {
		if err := f.Truncate(blobseal.HeaderSize + cur); err != nil {
			return cur, errors.Join(cause, fmt.Errorf("blob %s: truncate: %w", sha, err))
		}
		return cur, cause
	}
	switch {
	case cur+n > length:
		return rollback(platform.ErrBlobTooLong)
	case copyErr != nil && chunkSHA != "":
		return rollback(fmt.Errorf("blob %s: %w: %w", sha, platform.ErrBodyRead, copyErr))
	case chunkSHA != "" && hex.EncodeToString(h.Sum(nil)) != chunkSHA:
		return rollback(platform.ErrChunkHash)
	}
	// Make the reported offset durable before the kiosk hears of it.
	if err := f.Sync(); err != nil {
		return rollback(fmt.Errorf("blob %s: sync: %w", sha, err))
	}
	newOff := cur + n
	if copyErr != nil {
		return newOff, fmt.Errorf("blob %s: %w: %w", sha, platform.ErrBodyRead, copyErr)
	}
	if newOff < length {
		return newOff, nil
	}
	return d.finish(sha, f, st, newOff, whole)
}

func (d *Dir) partialExists(sha string) bool {
	_, err := os.Lstat(d.partialPath(sha))
	return !errors.Is(err, os.ErrNotExist)
}

// readWhole reads a body that should hold a whole blob of length bytes.
// whole says it did; otherwise rest replays what arrived followed by the
// reader's own error, if it had one. A body longer than length is
// platform.ErrBlobTooLong.
func readWhole(body io.Reader, length int64) (data []byte, rest io.Reader, whole bool, err error) {
	buf := make([]byte, length+1) // one byte over tells us the body is too long
	n, err := io.ReadFull(body, buf)
	switch {
	case err == nil:
		return nil, nil, false, platform.ErrBlobTooLong
	case int64(n) == length && errors.Is(err, io.ErrUnexpectedEOF):
		return buf[:n], nil, true, nil
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return nil, bytes.NewReader(buf[:n]), false, nil
	default:
		return nil, io.MultiReader(bytes.NewReader(buf[:n]), errReader{err}), false, nil
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// packWhole verifies a blob received whole and packs it.
func (d *Dir) packWhole(sha string, data []byte, chunkSHA string) (int64, error) {
	sum := sha256.Sum256(data)
	got := hex.EncodeToString(sum[:])
	if chunkSHA != "" && got != chunkSHA {
		return 0, platform.ErrChunkHash
	}
	if got != sha {
		return 0, platform.ErrHashMismatch
	}
	// Sealed here, in the uploader's goroutine, so the pack writer that
	// serialises every upload only writes.
	unit, err := d.key.Seal(sha, data)
	if err != nil {
		return 0, fmt.Errorf("blob %s: %w", sha, err)
	}
	if err := d.packs.put(context.Background(), sha, unit); err != nil {
		return 0, fmt.Errorf("blob %s: %w", sha, err)
	}
	return int64(len(data)), nil
}

// finish verifies a fully received blob and moves it into place. whole is
// the hash of every plaintext byte written, when this request wrote them
// all; nil makes finish decrypt and hash the file (st is its stream).
func (d *Dir) finish(sha string, f *os.File, st *blobseal.Stream, size int64, whole hash.Hash) (int64, error) {
	if whole == nil {
		whole = sha256.New()
		if _, err := io.Copy(whole, st.Reader(f, blobseal.HeaderSize, size)); err != nil {
			return size, fmt.Errorf("blob %s: verify: %w", sha, err)
		}
	}
	if hex.EncodeToString(whole.Sum(nil)) != sha {
		if err := os.Remove(d.partialPath(sha)); err != nil {
			return size, errors.Join(platform.ErrHashMismatch, err)
		}
		return 0, platform.ErrHashMismatch
	}
	dir := filepath.Dir(d.path(sha))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return size, fmt.Errorf("blob %s: %w", sha, err)
	}
	if err := os.Rename(d.partialPath(sha), d.path(sha)); err != nil {
		return size, fmt.Errorf("blob %s: %w", sha, err)
	}
	// Only the destination directory is synced: that makes the new name
	// durable, which is all a kiosk is promised. If a crash loses the
	// removal of the partial name instead, the blob is still complete
	// (Offset and Complete look at the final name first) and the stale
	// partial file is removed by PurgePartials; syncing the partial
	// folder as well would cost a third disk flush per blob for nothing.
	if err := atomicfile.SyncDir(dir); err != nil {
		return size, err
	}
	return size, nil
}

// Open opens a complete blob for reading.
func (d *Dir) Open(ctx context.Context, sha string) (io.ReadSeekCloser, error) {
	if l, ok, err := d.packs.lookup(sha); err != nil {
		return nil, err
	} else if ok {
		return d.packs.open(sha, l)
	}
	f, err := os.Open(d.path(sha))
	if errors.Is(err, os.ErrNotExist) {
		// A plaintext blob of a folder from before sealing.
		f, err := os.Open(d.legacyPath(sha))
		if errors.Is(err, os.ErrNotExist) {
			return nil, platform.ErrNotFound
		}
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("blob %s: %w", sha, err)
	}
	st, err := d.key.OpenAt(sha, f, 0)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("blob %s: %w", sha, err)
	}
	return readCloser{st.Reader(f, blobseal.HeaderSize, fi.Size()-blobseal.HeaderSize), f}, nil
}

// readCloser is a decrypting reader and the file it reads.
type readCloser struct {
	io.ReadSeeker
	io.Closer
}

// PurgePartials removes uploads that have not grown since before cutoff: a
// kiosk that comes back later than that starts the blob again from 0 (HEAD
// answers 404). It returns how many it removed.
func (d *Dir) PurgePartials(ctx context.Context, cutoff time.Time) (int, error) {
	dir := filepath.Join(d.root, sealedDir, "partial")
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

// Walk calls fn with the address and size of every complete blob, packed
// or in a file of its own (for platformd verify and migrate).
func (d *Dir) Walk(ctx context.Context, fn func(sha string, size int64) error) error {
	rows, err := d.packs.r.QueryContext(ctx, `SELECT sha, size FROM packed ORDER BY sha`)
	if err != nil {
		return fmt.Errorf("pack index: %w", err)
	}
	type entry struct {
		sha  string
		size int64
	}
	var packed []entry
	for rows.Next() {
		var e entry
		if err := rows.Scan(&e.sha, &e.size); err != nil {
			rows.Close()
			return fmt.Errorf("pack index: %w", err)
		}
		packed = append(packed, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pack index: %w", err)
	}
	for _, e := range packed {
		if err := fn(e.sha, e.size); err != nil {
			return err
		}
	}
	// Sealed files, then the plaintext ones of a folder from before
	// sealing.
	if err := walkFiles(filepath.Join(d.root, sealedDir), blobseal.HeaderSize, fn); err != nil {
		return err
	}
	return walkFiles(d.root, 0, fn)
}

// walkFiles calls fn for each blob file <sha[:2]>/<sha> under root, whose
// size is the file's less header.
func walkFiles(root string, header int64, fn func(sha string, size int64) error) error {
	dirs, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("blob folder: %w", err)
	}
	for _, sub := range dirs {
		if !sub.IsDir() || len(sub.Name()) != 2 {
			continue
		}
		files, err := os.ReadDir(filepath.Join(root, sub.Name()))
		if err != nil {
			return fmt.Errorf("blob folder: %w", err)
		}
		for _, f := range files {
			if !api.IsSHA256Hex(f.Name()) || f.Name()[:2] != sub.Name() {
				continue
			}
			fi, err := f.Info()
			if err != nil {
				return fmt.Errorf("blob folder: %w", err)
			}
			if err := fn(f.Name(), max(fi.Size()-header, 0)); err != nil {
				return err
			}
		}
	}
	return nil
}
