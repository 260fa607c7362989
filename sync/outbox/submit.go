package outbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sys/unix"

	"onedoor/internal/atomicfile"
	"onedoor/pii"
	"onedoor/sync/api"
	"onedoor/sync/outbox/sealed"
)

// Applicant is the resident, as the wire protocol carries it.
type Applicant = api.ApplicantData

// NewSubmission is what the kiosk flow hands to Submit.
type NewSubmission struct {
	ItemID      string
	ItemVersion string
	Applicant   Applicant
	// Agent is the 代办 agent (card read at the kiosk) applying for
	// Applicant; nil when the applicant applied in person.
	Agent     *Applicant
	Form      map[string]string
	Materials []Material
}

// Material is one required material and its scanned pages (none for an
// e-certificate or a promise).
type Material struct {
	MaterialID string
	Kind       string // api.KindScan, api.KindECert or api.KindPromise
	Pages      []Page
	// PromiseText is the full 告知承诺 accepted, for api.KindPromise.
	PromiseText string
	// CertNumber names the e-certificate used, for api.KindECert
	// (api.MaterialRef.CertNumber; issue 13).
	CertNumber string
}

// Page is one scanned page.
type Page struct {
	Data        []byte
	ContentType string
}

// Receipt identifies a stored submission. Number is what the resident
// takes home: {kiosk}-{yyyymmdd}-{seq}.
type Receipt struct {
	Number string
	UUID   string
	// LookupCode is printed on the receipt (api.FormatLookupCode): typed
	// at any kiosk it proves the case is the resident's (issue 11). The
	// platform gets only its hash.
	LookupCode string
}

// sealedPayload is the personal part of a submission, stored encrypted.
type sealedPayload struct {
	Applicant Applicant         `json:"applicant"`
	Agent     *Applicant        `json:"agent,omitempty"`
	Form      map[string]string `json:"form,omitempty"`
	// Promises are the 告知承诺 texts by material order.
	Promises map[int]string `json:"promises,omitempty"`
	// LookupCode is the receipt's lookup code; the request carries its
	// hash (api.LookupCodeSHA256). Absent in submissions queued before.
	LookupCode string `json:"lookup_code,omitempty"`
	// Certs are the e-certificate numbers by material order (issue 13),
	// sealed like the rest; absent when none was used.
	Certs map[int]string `json:"certs,omitempty"`
}

type pageRef struct {
	material, page int
	sha            string
	size           int64
	contentType    string
}

// Submit stores a submission durably and returns its receipt. When it
// returns without error the blobs are on disk (fsynced, renamed, directory
// fsynced) and the rows are committed with synchronous=FULL; when it returns
// an error nothing of the submission is visible. A full disk gives an error
// wrapping ErrDiskFull, a malformed submission one wrapping ErrInvalid.
func (s *Store) Submit(ctx context.Context, sub NewSubmission) (Receipt, error) {
	if err := s.writable(); err != nil {
		return Receipt{}, err
	}
	now := s.now()
	id := uuid.NewString()
	day := now.Format("20060102")

	// Validate against the same rules the platform applies, so a bad
	// submission is refused here, before the resident leaves with a
	// receipt for something the platform will reject.
	req := api.SubmissionRequest{
		UUID: id, Receipt: fmt.Sprintf("%s-%s-%04d", s.opts.KioskID, day, 1), KioskID: s.opts.KioskID,
		ItemID: sub.ItemID, ItemVersion: sub.ItemVersion, CreatedAt: now,
		Applicant: sub.Applicant, Agent: sub.Agent, Form: sub.Form,
	}
	var pages []pageRef
	var data [][]byte
	sums := hashPages(sub.Materials)
	for i, m := range sub.Materials {
		ref := api.MaterialRef{MaterialID: m.MaterialID, Kind: m.Kind, PromiseText: m.PromiseText, CertNumber: m.CertNumber}
		for j, p := range m.Pages {
			pr := pageRef{material: i, page: j, sha: sums[len(pages)], size: int64(len(p.Data)), contentType: p.ContentType}
			pages = append(pages, pr)
			data = append(data, p.Data)
			ref.Pages = append(ref.Pages, api.BlobRef{SHA256: pr.sha, Size: pr.size, ContentType: pr.contentType})
		}
		req.Materials = append(req.Materials, ref)
	}
	if err := req.Validate(); err != nil {
		return Receipt{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	code, err := api.NewLookupCode()
	if err != nil {
		return Receipt{}, err
	}
	sp := sealedPayload{Applicant: sub.Applicant, Agent: sub.Agent, Form: sub.Form, LookupCode: code}
	for i, m := range sub.Materials {
		if m.PromiseText != "" {
			if sp.Promises == nil {
				sp.Promises = map[int]string{}
			}
			sp.Promises[i] = m.PromiseText
		}
		if m.CertNumber != "" {
			if sp.Certs == nil {
				sp.Certs = map[int]string{}
			}
			sp.Certs[i] = m.CertNumber
		}
	}
	payload, err := json.Marshal(sp)
	if err != nil {
		return Receipt{}, fmt.Errorf("outbox: encode submission: %w", err)
	}
	sealedRow, err := s.keys.sealRow(payload, id)
	if err != nil {
		return Receipt{}, err
	}

	s.blobMu.Lock()
	defer s.blobMu.Unlock()
	if err := s.blobLock.shared(); err != nil {
		return Receipt{}, err
	}
	defer s.blobLock.unlock()

	if err := s.checkSpace(pages); err != nil {
		return Receipt{}, err
	}
	created, err := s.writeBlobs(pages, data)
	if err != nil {
		s.dropNewBlobs(ctx, created)
		return Receipt{}, err
	}
	number, err := s.insertSubmission(ctx, id, day, now, sub, sealedRow, pages)
	if err != nil {
		s.dropNewBlobs(ctx, created)
		return Receipt{}, err
	}
	s.log.Info("submission stored", "receipt", number, "uuid", id, "pages", len(pages))
	s.signal()
	return Receipt{Number: number, UUID: id, LookupCode: code}, nil
}

// hashPages returns the hex SHA-256 of every page, in order, hashing the
// pages concurrently: on a multi-megabyte form the hashing is a noticeable
// part of a submit.
func hashPages(ms []Material) []string {
	var all [][]byte
	for _, m := range ms {
		for _, p := range m.Pages {
			all = append(all, p.Data)
		}
	}
	sums := make([]string, len(all))
	var wg sync.WaitGroup
	for i, d := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sum := sha256.Sum256(d)
			sums[i] = hex.EncodeToString(sum[:])
		}()
	}
	wg.Wait()
	return sums
}

func (s *Store) insertSubmission(ctx context.Context, id, day string, now time.Time, sub NewSubmission, sealedRow []byte, pages []pageRef) (string, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	var seq int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM submissions WHERE kiosk_id = ? AND day = ?`,
		s.opts.KioskID, day).Scan(&seq); err != nil {
		return "", fmt.Errorf("outbox: next receipt number: %w", err)
	}
	number := fmt.Sprintf("%s-%s-%04d", s.opts.KioskID, day, seq)
	ms := now.UnixMilli()
	if _, err := tx.ExecContext(ctx, `INSERT INTO submissions
		(uuid, receipt, kiosk_id, day, seq, item_id, item_version, created_at, sealed, id_hash, masked_name, state, next_attempt_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)`,
		id, number, s.opts.KioskID, day, seq, sub.ItemID, sub.ItemVersion, ms, sealedRow,
		s.keys.idHash(sub.Applicant.IDNumber), pii.MaskName(sub.Applicant.Name), ms); err != nil {
		return "", fmt.Errorf("outbox: insert submission: %w", mapDiskFull(err))
	}
	for i, m := range sub.Materials {
		if _, err := tx.ExecContext(ctx, `INSERT INTO materials (submission_uuid, ord, material_id, kind) VALUES (?, ?, ?, ?)`,
			id, i, m.MaterialID, m.Kind); err != nil {
			return "", fmt.Errorf("outbox: insert material: %w", mapDiskFull(err))
		}
	}
	var total int64
	for _, p := range pages {
		total += p.size
		if _, err := tx.ExecContext(ctx, `INSERT INTO attachments (submission_uuid, material_ord, page, sha256, size, content_type)
			VALUES (?, ?, ?, ?, ?, ?)`, id, p.material, p.page, p.sha, p.size, p.contentType); err != nil {
			return "", fmt.Errorf("outbox: insert attachment: %w", mapDiskFull(err))
		}
	}
	if err := audit(ctx, tx, now, "submit", number, fmt.Sprintf("item=%s pages=%d bytes=%d", sub.ItemID, len(pages), total)); err != nil {
		return "", mapDiskFull(err)
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("outbox: commit submission: %w", mapDiskFull(err))
	}
	return number, nil
}

// writeBlobs makes every page durable under its content address and returns
// the addresses it newly created (not those already present). The pages
// are sealed, written and fsynced in parallel (separate files, so the
// file system can merge their journal commits), then renamed into place,
// then the directory is fsynced once. On error no temp file is left;
// blobs already renamed are reported so the caller can drop them.
func (s *Store) writeBlobs(pages []pageRef, data [][]byte) (created []string, err error) {
	type job struct {
		sha, final string
		plain      []byte
		tmp        string
		err        error
	}
	var jobs []*job
	seen := map[string]bool{}
	for i, p := range pages {
		if seen[p.sha] {
			continue
		}
		seen[p.sha] = true
		final := filepath.Join(s.blobDir, p.sha)
		if s.blobIntact(final, p.sha) {
			// Same plaintext already stored; the blob lock Submit holds
			// keeps collection off it until our row commits.
			continue
		}
		jobs = append(jobs, &job{sha: p.sha, final: final, plain: data[i]})
	}
	if len(jobs) == 0 {
		return nil, nil
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j.tmp, j.err = s.writeTemp(j.sha, j.plain)
		}()
	}
	wg.Wait()
	for _, j := range jobs {
		if j.err != nil {
			err = j.err
			break
		}
	}
	if err != nil {
		for _, j := range jobs {
			if j.tmp != "" {
				os.Remove(j.tmp)
			}
		}
		return nil, err
	}
	for i, j := range jobs {
		if err := s.fs.Rename(j.tmp, j.final); err != nil {
			for _, k := range jobs[i:] {
				os.Remove(k.tmp)
			}
			return created, fmt.Errorf("outbox: rename blob: %w", mapDiskFull(err))
		}
		created = append(created, j.sha)
	}
	if err := s.fs.SyncDir(s.blobDir); err != nil {
		return created, fmt.Errorf("outbox: sync blob directory: %w", mapDiskFull(err))
	}
	return created, nil
}

// checkSpace refuses a submission that would leave less than the reserve
// free. Approximate (other writers share the disk); the real ENOSPC path
// stays correct without it.
func (s *Store) checkSpace(pages []pageRef) error {
	if s.opts.ReserveBytes < 0 {
		return nil
	}
	var fsst unix.Statfs_t
	if err := unix.Statfs(s.blobDir, &fsst); err != nil {
		return nil // cannot tell; let the writes find out
	}
	free := int64(fsst.Bavail) * int64(fsst.Bsize)
	need := int64(64 << 10) // rows, WAL frames
	for _, p := range pages {
		need += sealed.SealedSize(p.size, s.segmentSize())
	}
	if free-need < s.opts.ReserveBytes {
		return fmt.Errorf("%w: %d bytes free, the submission needs %d and %d stay reserved",
			ErrDiskFull, free, need, s.opts.ReserveBytes)
	}
	return nil
}

func (s *Store) segmentSize() int {
	if s.opts.SegmentSize > 0 {
		return s.opts.SegmentSize
	}
	return sealed.DefaultSegmentSize
}

// blobIntact reports whether the blob file at path exists and
// authenticates in full. A new row may only share a blob that is known
// good: a damaged one is written afresh instead.
func (s *Store) blobIntact(path, sha string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false
	}
	sum, _ := hex.DecodeString(sha)
	r, err := sealed.NewReader(f, st.Size(), s.keys.blob, sum)
	if err != nil {
		return false
	}
	_, err = io.Copy(io.Discard, r)
	return err == nil
}

// writeTemp seals plain into a new temp file in the blob directory and
// fsyncs it, returning the temp file's name. On error nothing is left.
func (s *Store) writeTemp(sha string, plain []byte) (_ string, err error) {
	f, err := s.fs.CreateTemp(s.blobDir, ".tmp-*")
	if err != nil {
		return "", fmt.Errorf("outbox: create blob: %w", mapDiskFull(err))
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	sum, _ := hex.DecodeString(sha)
	w := &bufferedWriter{w: f, buf: make([]byte, 0, 256<<10)}
	if _, err := sealed.Seal(w, s.keys.blob, plain, sum, s.segmentSize()); err != nil {
		return "", fmt.Errorf("outbox: write blob: %w", mapDiskFull(err))
	}
	if err := w.flush(); err != nil {
		return "", fmt.Errorf("outbox: write blob: %w", mapDiskFull(err))
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("outbox: sync blob: %w", mapDiskFull(err))
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("outbox: close blob: %w", mapDiskFull(err))
	}
	return tmp, nil
}

// bufferedWriter batches the many small segment writes of sealed.Seal into
// few large write(2) calls, keeping the first write error.
type bufferedWriter struct {
	w   interface{ Write([]byte) (int, error) }
	buf []byte
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	if len(b.buf)+len(p) > cap(b.buf) {
		if err := b.flush(); err != nil {
			return 0, err
		}
	}
	if len(p) > cap(b.buf) {
		return b.w.Write(p)
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *bufferedWriter) flush() error {
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.w.Write(b.buf)
	b.buf = b.buf[:0]
	return err
}

// dropNewBlobs removes blobs this Submit created when its rows did not
// commit, unless some committed row names them. Best effort: what it
// misses, garbage collection at the next Open removes.
func (s *Store) dropNewBlobs(ctx context.Context, shas []string) {
	for _, sha := range shas {
		var n int
		err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM attachments WHERE sha256 = ?`, sha).Scan(&n)
		if err != nil || n > 0 {
			continue
		}
		os.Remove(filepath.Join(s.blobDir, sha))
	}
}

// collectBlobs removes blob files no attachment row names and leftover temp
// files. It holds blobMu and the blob lock exclusively, so no Submit, in
// this process or another, is between writing a blob and committing the
// row that names it: an unnamed file is garbage whatever its age (see
// blobLock for why no clock is involved). The caller must not hold blobMu.
func (s *Store) collectBlobs(ctx context.Context) (int, error) {
	s.blobMu.Lock()
	defer s.blobMu.Unlock()
	if err := s.blobLock.exclusive(); err != nil {
		return 0, err
	}
	defer s.blobLock.unlock()
	entries, err := os.ReadDir(s.blobDir)
	if err != nil {
		return 0, fmt.Errorf("outbox: list blobs: %w", err)
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
			return removed, fmt.Errorf("outbox: remove blob: %w", err)
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

// BlobReader reads one stored blob's plaintext, decrypting only the
// segments a read touches, so an upload can resume at any offset.
type BlobReader struct {
	*sealed.Reader
	f *os.File
}

// Close closes the underlying file.
func (b *BlobReader) Close() error { return b.f.Close() }

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
