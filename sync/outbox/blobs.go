package outbox

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"onedoor/internal/atomicfile"
	"onedoor/sync/outbox/sealed"
)

// Where scanned pages live, and why.
//
// A page is sealed (package sealed: its own AES-256-GCM key, 64 KiB
// segments, the header as additional data of each) and its sealed stream
// is written into the page pack, pages.pack beside the database, at a
// place its blob row names (pack_off, pack_len; the row also keeps the
// header). pack.go says why a pack file and not the database, how a
// Submit makes pages and rows durable with two flushes run at once, and
// how a crash between them is undone at open.
//
// A torn or damaged page cannot be served: each segment authenticates
// against its blob's header and content address, so a damaged, swapped,
// reordered, lost or cut segment reads as ErrCorrupt.
//
// Pages schema 3 stored in the database (header in blobs, segments in
// blob_segments, pack_off NULL) are still read from there, and blob files
// of earlier versions still (blobs/ holds them, named by content address),
// verified and, once no row names them, removed; nothing new is written
// in either place.

// sealedPage is one page hashed and sealed, ready to be stored: its
// whole sealed stream, the header first.
type sealedPage struct {
	sha    string
	stream []byte
}

// pageSealer hashes and seals a submission's pages in the background,
// one goroutine per page: Submit waits for the hashes (the rows and the
// validation need them) and goes on writing its rows while the pages are
// still being sealed, taking each page when it is ready, so most of the
// sealing overlaps the transaction instead of preceding it.
type pageSealer struct {
	sums   []string // hex SHA-256 of every page, in order; valid after hashed.Wait
	pages  []sealedPage
	errs   []error
	hashed sync.WaitGroup
	done   []chan struct{} // closed when page i is sealed (or failed)
}

func (s *Store) startSealing(ms []Material) *pageSealer {
	var all [][]byte
	for _, m := range ms {
		for _, p := range m.Pages {
			all = append(all, p.Data)
		}
	}
	ps := &pageSealer{sums: make([]string, len(all)), pages: make([]sealedPage, len(all)),
		errs: make([]error, len(all)), done: make([]chan struct{}, len(all))}
	ps.hashed.Add(len(all))
	seg := s.segmentSize()
	for i, d := range all {
		ps.done[i] = make(chan struct{})
		go func() {
			defer close(ps.done[i])
			sum := sha256.Sum256(d)
			sha := hex.EncodeToString(sum[:])
			ps.sums[i] = sha
			ps.hashed.Done()
			stream, err := sealed.SealStream(s.keys.blob, d, sum[:], seg)
			ps.pages[i] = sealedPage{sha: sha, stream: stream}
			ps.errs[i] = err
		}()
	}
	return ps
}

// distinct returns the index of the first page of each content address.
func (ps *pageSealer) distinct() []int {
	seen := map[string]bool{}
	var out []int
	for i, sha := range ps.sums {
		if !seen[sha] {
			seen[sha] = true
			out = append(out, i)
		}
	}
	return out
}

// page waits for page i to be sealed.
func (ps *pageSealer) page(ctx context.Context, i int) (sealedPage, error) {
	select {
	case <-ps.done[i]:
	case <-ctx.Done():
		return sealedPage{}, ctx.Err()
	}
	if err := ps.errs[i]; err != nil {
		return sealedPage{}, fmt.Errorf("outbox: seal page: %w", err)
	}
	return ps.pages[i], nil
}

// packExtent is where a Submit wrote its pages in the pack.
type packExtent struct{ off, n int64 }

// storeBlobs stores, inside the caller's transaction, the pages no intact
// stored blob already holds: it allocates one extent at the pack's
// allocation mark (kv pack_tail, moved in this transaction), inserts a
// blob row for each page naming its place, and writes all their sealed
// streams there with one pwritev — before the commit, so that the pages
// are in the file (the page cache at least) whenever a row naming them is
// visible. It does not sync: the caller runs the pack's fdatasync in
// parallel with the commit (pack.go). Finding a blob and naming it happen
// in one immediate transaction, so a purge (also one) can never remove a
// blob between this check and the commit of the rows that name it. It
// returns the extent written (n 0: none).
func (s *Store) storeBlobs(ctx context.Context, tx *sql.Tx, ps *pageSealer) (packExtent, error) {
	var todo []sealedPage
	for _, i := range ps.distinct() {
		sha := ps.sums[i]
		ok, found, err := s.storedIntact(ctx, tx, sha)
		if err != nil {
			return packExtent{}, err
		}
		if ok {
			continue
		}
		if found {
			// Share it only if it is known good: a damaged blob is
			// replaced by this fresh copy, for every row that names it.
			s.log.Warn("stored blob fails authentication; writing it again", "sha256", sha)
			if err := freeExtents(ctx, tx, `sha256 = ?`, sha); err != nil {
				return packExtent{}, err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM blobs WHERE sha256 = ?`, sha); err != nil {
				return packExtent{}, fmt.Errorf("outbox: replace damaged blob: %w", mapDiskFull(err))
			}
		}
		p, err := ps.page(ctx, i)
		if err != nil {
			return packExtent{}, err
		}
		todo = append(todo, p)
	}
	if len(todo) == 0 {
		return packExtent{}, nil
	}
	tail, err := kvInt(ctx, tx, kvPackTail)
	if err != nil {
		return packExtent{}, err
	}
	ext := packExtent{off: tail}
	bufs := make([][]byte, len(todo))
	for i, p := range todo {
		if _, err := tx.ExecContext(ctx, `INSERT INTO blobs (sha256, header, pack_off, pack_len) VALUES (?, ?, ?, ?)`,
			p.sha, p.stream[:sealed.HeaderSize], ext.off+ext.n, len(p.stream)); err != nil {
			return packExtent{}, fmt.Errorf("outbox: insert blob: %w", mapDiskFull(err))
		}
		bufs[i] = p.stream
		ext.n += int64(len(p.stream))
	}
	if err := setKVInt(ctx, tx, kvPackTail, ext.off+ext.n); err != nil {
		return packExtent{}, err
	}
	if err := s.packReserve(ext.off + ext.n); err != nil {
		return packExtent{}, err
	}
	if s.hooks != nil && s.hooks.packWrite != nil {
		if err := s.hooks.packWrite(); err != nil {
			return packExtent{}, fmt.Errorf("outbox: write page pack: %w", mapDiskFull(err))
		}
	}
	if err := s.packWrite(bufs, ext.off); err != nil {
		return packExtent{}, err
	}
	return ext, nil
}

// storedIntact reports whether blob sha is stored (a row) and whether it
// authenticates in full.
func (s *Store) storedIntact(ctx context.Context, tx *sql.Tx, sha string) (ok, found bool, err error) {
	var header []byte
	var off, n sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT header, pack_off, pack_len FROM blobs WHERE sha256 = ?`, sha).Scan(&header, &off, &n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("outbox: look up blob: %w", err)
	}
	var r *sealed.Reader
	if off.Valid {
		r, err = s.packBlobReader(sha, header, off.Int64, n.Int64)
	} else {
		r, err = s.dbBlobReader(ctx, tx, sha, header)
	}
	if err == nil {
		_, err = io.Copy(io.Discard, r)
	}
	return err == nil, true, nil
}

// dbBlob presents a blob's header and segment rows as the sealed stream
// sealed.Reader reads, fetching a segment only when a read reaches it.
type dbBlob struct {
	// ctx is the context of the OpenBlob call: io.ReaderAt has no context
	// of its own, and a read for a cancelled upload should stop.
	ctx context.Context
	// q runs the segment query: the store's prepared statement for
	// OpenBlob (a resumed upload reads segment after segment), or the
	// caller's transaction inside Submit.
	q      rowsQueryer
	sha    string
	header []byte
	h      *sealed.Header
}

// segmentQuery reads one sealed segment.
const segmentQuery = `SELECT data FROM blob_segments WHERE sha256 = ? AND seg = ?`

// preparedSegments runs segmentQuery through the statement OpenBlob's
// readers share; its one parameter list is the query's.
type preparedSegments struct{ stmt *sql.Stmt }

func (p preparedSegments) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return p.stmt.QueryContext(ctx, args...)
}

func (s *Store) dbBlobReader(ctx context.Context, q rowsQueryer, sha string, header []byte) (*sealed.Reader, error) {
	h, err := sealed.ParseHeader(header)
	if err != nil {
		return nil, fmt.Errorf("%w: blob %s: %w", ErrCorrupt, sha, err)
	}
	sum, _ := hex.DecodeString(sha)
	src := &dbBlob{ctx: ctx, q: q, sha: sha, header: header, h: h}
	r, err := sealed.NewReader(src, h.SealedSize(), s.keys.blob, sum)
	if err != nil {
		return nil, fmt.Errorf("outbox: blob %s: %w", sha, err)
	}
	return r, nil
}

// ReadAt serves p from the header or from the segments it covers. A
// missing segment row reads as the end of the data, which sealed.Reader
// reports as ErrCorrupt (truncated).
func (b *dbBlob) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		o := off + int64(n)
		if o < sealed.HeaderSize {
			n += copy(p[n:], b.header[o:])
			continue
		}
		seg := (o - sealed.HeaderSize) / (b.h.StreamOffset(1) - b.h.StreamOffset(0))
		if seg >= b.h.Segments() {
			return n, io.EOF
		}
		within := o - b.h.StreamOffset(seg)
		c, err := b.readSegment(p[n:], seg, within)
		n += c
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (b *dbBlob) readSegment(p []byte, seg, within int64) (int, error) {
	rows, err := b.q.QueryContext(b.ctx, segmentQuery, b.sha, seg)
	if err != nil {
		return 0, fmt.Errorf("outbox: read blob segment: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return 0, fmt.Errorf("outbox: read blob segment: %w", err)
		}
		return 0, io.ErrUnexpectedEOF
	}
	var data sql.RawBytes
	if err := rows.Scan(&data); err != nil {
		return 0, fmt.Errorf("outbox: read blob segment: %w", err)
	}
	if within >= int64(len(data)) {
		return 0, io.ErrUnexpectedEOF
	}
	return copy(p, data[within:]), nil
}

// BlobReader reads one stored blob's plaintext, decrypting only the
// segments a read touches, so an upload can resume at any offset.
type BlobReader struct {
	*sealed.Reader
	f *os.File // a blob file of an earlier version; nil for a stored one
}

// Close releases the reader. A reader of a blob in the database holds
// nothing between reads, and needs the Store open to read.
func (b *BlobReader) Close() error {
	if b.f == nil {
		return nil
	}
	return b.f.Close()
}

// OpenBlob opens the blob with the given content address (lowercase hex
// SHA-256 of the plaintext). ErrNotFound if it is not stored (never
// written, or purged); ErrCorrupt if it fails authentication.
func (s *Store) OpenBlob(ctx context.Context, sha string) (*BlobReader, error) {
	if s.keys == nil {
		return nil, ErrReadOnly
	}
	sum, err := hex.DecodeString(sha)
	if err != nil || len(sum) != sha256.Size || strings.ToLower(sha) != sha {
		return nil, fmt.Errorf("%w: %q is not a lowercase hex SHA-256", ErrNotFound, sha)
	}
	var header []byte
	var off, n sql.NullInt64
	err = s.rdb.QueryRowContext(ctx, `SELECT header, pack_off, pack_len FROM blobs WHERE sha256 = ?`, sha).Scan(&header, &off, &n)
	if err == nil && off.Valid {
		r, err := s.packBlobReader(sha, header, off.Int64, n.Int64)
		if err != nil {
			return nil, err
		}
		return &BlobReader{Reader: r}, nil
	}
	if err == nil {
		// Stored by schema 3: segments in blob_segments.
		r, err := s.dbBlobReader(ctx, preparedSegments{s.segStmt}, sha, header)
		if err != nil {
			return nil, err
		}
		return &BlobReader{Reader: r}, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("outbox: look up blob: %w", err)
	}
	return s.openBlobFile(sha, sum)
}

// openBlobFile opens a blob file an earlier version wrote.
func (s *Store) openBlobFile(sha string, sum []byte) (*BlobReader, error) {
	f, err := os.Open(filepath.Join(s.blobDir, sha))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: blob %s", ErrNotFound, sha)
	}
	if err != nil {
		return nil, fmt.Errorf("outbox: open blob: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("outbox: stat blob: %w", err)
	}
	r, err := sealed.NewReader(f, st.Size(), s.keys.blob, sum)
	if err != nil {
		f.Close()
		if errors.Is(err, sealed.ErrFormat) {
			return nil, fmt.Errorf("%w: blob %s: %w", ErrCorrupt, sha, err)
		}
		return nil, fmt.Errorf("outbox: blob %s: %w", sha, err)
	}
	return &BlobReader{Reader: r, f: f}, nil
}

// deleteUnnamedBlobs removes, in the caller's transaction, stored blobs no
// attachment row names; with secure_delete their rows and segments in the
// database are overwritten, and their extents in the pack are recorded in
// pack_free for erasePackFree after the commit.
func deleteUnnamedBlobs(ctx context.Context, tx *sql.Tx) (int, error) {
	if err := freeExtents(ctx, tx, `sha256 NOT IN (SELECT sha256 FROM attachments)`); err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM blobs WHERE sha256 NOT IN (SELECT sha256 FROM attachments)`)
	if err != nil {
		return 0, fmt.Errorf("outbox: delete unreferenced blobs: %w", mapDiskFull(err))
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// collectBlobFiles removes blob files of earlier versions that no
// attachment row names, and their leftover temp files. No lock is needed:
// this version never writes a blob file and never names one it did not
// find named already, so a file no row names stays unnamed for good.
func (s *Store) collectBlobFiles(ctx context.Context) (int, error) {
	entries, err := os.ReadDir(s.blobDir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("outbox: list blob files: %w", err)
	}
	removed := 0
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, ".tmp-") {
			var n int
			if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM attachments WHERE sha256 = ?`, name).Scan(&n); err != nil {
				return removed, fmt.Errorf("outbox: check blob reference: %w", err)
			}
			if n > 0 {
				continue
			}
		}
		if err := os.Remove(filepath.Join(s.blobDir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, fmt.Errorf("outbox: remove blob file: %w", err)
		}
		removed++
	}
	if removed > 0 {
		if err := atomicfile.SyncDir(s.blobDir); err != nil {
			return removed, fmt.Errorf("outbox: sync blob directory: %w", err)
		}
		s.log.Info("removed unreferenced blob files", "count", removed)
	}
	return removed, nil
}

// countBlobs is the number of blobs stored: rows in the database plus
// files of earlier versions.
func (s *Store) countBlobs(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM blobs`).Scan(&n); err != nil {
		return 0, fmt.Errorf("outbox: count blobs: %w", err)
	}
	files, err := countBlobFiles(s.blobDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return n, err
	}
	return n + files, nil
}
