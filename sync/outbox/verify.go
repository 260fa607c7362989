package outbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
)

// VerifyReport is the result of Verify.
type VerifyReport struct {
	Integrity    string   `json:"integrity"`    // SQLite integrity_check: "ok" or its complaints
	BlobsOK      int      `json:"blobs_ok"`     // referenced blobs present and authentic
	Missing      []string `json:"missing"`      // receipts naming a blob that is not stored
	Corrupt      []string `json:"corrupt"`      // receipts naming a blob that fails authentication
	BytesRead    int64    `json:"bytes_read"`   // plaintext bytes authenticated
	Unreferenced int      `json:"unreferenced"` // blobs no row names (removed by the next purge)
}

// OK reports whether nothing is wrong.
func (r VerifyReport) OK() bool {
	return r.Integrity == "ok" && len(r.Missing) == 0 && len(r.Corrupt) == 0
}

// Verify checks the database (integrity_check) and reads every blob a
// submission still names, authenticating every segment, so a technician
// can tell a damaged disk from a network problem. It needs the data key.
func (s *Store) Verify(ctx context.Context) (VerifyReport, error) {
	var rep VerifyReport
	if s.keys == nil {
		return rep, ErrReadOnly
	}
	if err := s.db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&rep.Integrity); err != nil {
		return rep, fmt.Errorf("outbox: integrity check: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT a.sha256, group_concat(DISTINCT s.receipt) FROM attachments a
		JOIN submissions s ON s.uuid = a.submission_uuid GROUP BY a.sha256`)
	if err != nil {
		return rep, fmt.Errorf("outbox: list blobs: %w", err)
	}
	type ref struct{ sha, receipts string }
	var refs []ref
	for rows.Next() {
		var r ref
		if err := rows.Scan(&r.sha, &r.receipts); err != nil {
			rows.Close()
			return rep, fmt.Errorf("outbox: list blobs: %w", err)
		}
		refs = append(refs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("outbox: list blobs: %w", err)
	}
	missing, corrupt := map[string]bool{}, map[string]bool{}
	referenced := map[string]bool{}
	for _, r := range refs {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		referenced[r.sha] = true
		b, err := s.OpenBlob(ctx, r.sha)
		if err == nil {
			var n int64
			n, err = io.Copy(io.Discard, b)
			rep.BytesRead += n
			b.Close()
		}
		switch {
		case err == nil:
			rep.BlobsOK++
		case errors.Is(err, ErrNotFound):
			missing[r.receipts] = true
		case errors.Is(err, ErrCorrupt):
			corrupt[r.receipts] = true
		default:
			return rep, err
		}
	}
	rep.Missing, rep.Corrupt = keys(missing), keys(corrupt)
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM blobs WHERE sha256 NOT IN (SELECT sha256 FROM attachments)`).
		Scan(&rep.Unreferenced); err != nil {
		return rep, fmt.Errorf("outbox: count unreferenced blobs: %w", err)
	}
	entries, err := os.ReadDir(s.blobDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return rep, fmt.Errorf("outbox: list blob files: %w", err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") && !referenced[e.Name()] {
			rep.Unreferenced++
		}
	}
	return rep, nil
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
