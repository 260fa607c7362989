package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sys/unix"

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
// returns without error its rows are committed with synchronous=FULL and
// its sealed pages are written into the page pack and fdatasynced (the two
// flushes at once; pack.go); when it returns an error nothing of the
// submission is visible. A full disk gives an error
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
	sealer := s.startSealing(sub.Materials)
	sealer.hashed.Wait()
	sums := sealer.sums
	if s.hooks != nil && s.hooks.hashed != nil {
		s.hooks.hashed()
	}
	for i, m := range sub.Materials {
		ref := api.MaterialRef{MaterialID: m.MaterialID, Kind: m.Kind, PromiseText: m.PromiseText, CertNumber: m.CertNumber}
		for j, p := range m.Pages {
			pr := pageRef{material: i, page: j, sha: sums[len(pages)], size: int64(len(p.Data)), contentType: p.ContentType}
			pages = append(pages, pr)
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

	if err := s.checkSpace(pages); err != nil {
		return Receipt{}, err
	}
	number, written, err := s.insertSubmission(ctx, id, day, now, sub, sealedRow, pages, sealer)
	if err != nil {
		return Receipt{}, err
	}
	// What the rows put in the WAL, roughly: the sealed row and a page
	// or two per row (the pages themselves are in the pack).
	s.noteWrite(int64(len(sealedRow)) + int64(walPageSize*(2+len(sub.Materials)+len(pages))))
	s.log.Info("submission stored", "receipt", number, "uuid", id, "pages", len(pages), "bytes", written)
	s.signal()
	return Receipt{Number: number, UUID: id, LookupCode: code}, nil
}

// insertSubmission writes the rows and then the pages not stored yet
// (rows in one immediate transaction, pages into the pack), and commits
// the rows while the pack is synced. It returns the receipt number and
// the sealed page bytes it wrote.
func (s *Store) insertSubmission(ctx context.Context, id, day string, now time.Time, sub NewSubmission, sealedRow []byte, pages []pageRef, sealer *pageSealer) (string, int64, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return "", 0, err
	}
	defer tx.Rollback()
	var seq int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM submissions WHERE kiosk_id = ? AND day = ?`,
		s.opts.KioskID, day).Scan(&seq); err != nil {
		return "", 0, fmt.Errorf("outbox: next receipt number: %w", err)
	}
	number := fmt.Sprintf("%s-%s-%04d", s.opts.KioskID, day, seq)
	ms := now.UnixMilli()
	if _, err := tx.ExecContext(ctx, `INSERT INTO submissions
		(uuid, receipt, kiosk_id, day, seq, item_id, item_version, created_at, sealed, id_hash, masked_name, state, next_attempt_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)`,
		id, number, s.opts.KioskID, day, seq, sub.ItemID, sub.ItemVersion, ms, sealedRow,
		s.keys.idHash(sub.Applicant.IDNumber), pii.MaskName(sub.Applicant.Name), ms); err != nil {
		return "", 0, fmt.Errorf("outbox: insert submission: %w", mapDiskFull(err))
	}
	for i, m := range sub.Materials {
		if _, err := tx.ExecContext(ctx, `INSERT INTO materials (submission_uuid, ord, material_id, kind) VALUES (?, ?, ?, ?)`,
			id, i, m.MaterialID, m.Kind); err != nil {
			return "", 0, fmt.Errorf("outbox: insert material: %w", mapDiskFull(err))
		}
	}
	var total int64
	for _, p := range pages {
		total += p.size
		if _, err := tx.ExecContext(ctx, `INSERT INTO attachments (submission_uuid, material_ord, page, sha256, size, content_type)
			VALUES (?, ?, ?, ?, ?, ?)`, id, p.material, p.page, p.sha, p.size, p.contentType); err != nil {
			return "", 0, fmt.Errorf("outbox: insert attachment: %w", mapDiskFull(err))
		}
	}
	if err := audit(ctx, tx, now, "submit", number, fmt.Sprintf("item=%s pages=%d bytes=%d", sub.ItemID, len(pages), total)); err != nil {
		return "", 0, mapDiskFull(err)
	}
	ext, err := s.storeBlobs(ctx, tx, sealer)
	if err != nil {
		return "", 0, err
	}
	if s.hooks != nil && s.hooks.beforeCommit != nil {
		s.hooks.beforeCommit()
	}
	// The two flushes a Submit needs — the pages' fdatasync of the pack
	// and the rows' commit of the WAL — run at once, and Submit returns
	// after both. The rows may so reach the disk first; recoverPack (see
	// pack.go) takes back at open any submission whose pages did not.
	var synced chan error
	if ext.n > 0 {
		synced = make(chan error, 1)
		go func() { synced <- s.packSync() }()
	}
	err = tx.Commit()
	var syncErr error
	if synced != nil {
		syncErr = <-synced
	}
	if err != nil {
		// The extent stays unnamed; the next allocation writes over it.
		return "", 0, fmt.Errorf("outbox: commit submission: %w", mapDiskFull(err))
	}
	if syncErr != nil {
		// The rows are committed but their pages may not be on disk: take
		// the submission back so that no receipt is given for it.
		if uerr := s.undoSubmission(ctx, id, number); uerr != nil {
			s.log.Error("could not take back a submission whose pages failed to sync; the next open rolls it back", "receipt", number, "err", uerr)
		}
		return "", 0, syncErr
	}
	return number, ext.n, nil
}

// undoSubmission deletes a committed submission whose pages failed to
// sync, with the blobs only it names, and says so in the audit log.
func (s *Store) undoSubmission(ctx context.Context, id, number string) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := deleteSubmission(ctx, tx, id); err != nil {
		return err
	}
	if _, err := deleteUnnamedBlobs(ctx, tx); err != nil {
		return err
	}
	if err := audit(ctx, tx, s.now(), "rolled back", number, "pages failed to sync; no receipt was given"); err != nil {
		return mapDiskFull(err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("outbox: commit undo: %w", mapDiskFull(err))
	}
	return s.erasePackFree(ctx)
}

// checkSpace refuses a submission that would leave less than the reserve
// free. Approximate (other writers share the disk); the real ENOSPC path
// stays correct without it.
func (s *Store) checkSpace(pages []pageRef) error {
	if s.opts.ReserveBytes < 0 {
		return nil
	}
	var fsst unix.Statfs_t
	if err := unix.Statfs(s.dir, &fsst); err != nil {
		return nil // cannot tell; let the writes find out
	}
	free := int64(fsst.Bavail) * int64(fsst.Bsize)
	// Each page is written once, into the pack (blocks it preallocated
	// are already taken out of Bavail).
	need := int64(64 << 10) // rows, WAL frame headers
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
