package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"onedoor/sync/platform/ecert"
	"onedoor/sync/platform/storesql"
)

var _ ecert.Store = (*Store)(nil)

// PutCertificate implements ecert.Store. Two instances storing the same
// certificate at once both succeed; a different one under a taken number
// is ErrExists.
func (s *Store) PutCertificate(ctx context.Context, c ecert.Certificate, at time.Time) error {
	doc, err := storesql.CertDoc(c)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO ecerts(number, holder_hash, type_code, issued_on, cert, added_at) VALUES($1,$2,$3,$4,$5,$6)
		ON CONFLICT(number) DO NOTHING`, c.Number, c.Holder.IDHash, c.TypeCode, c.IssuedOn, doc, ts(at))
	if err != nil {
		return fmt.Errorf("certificate: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var old []byte
	if err := s.pool.QueryRow(ctx, `SELECT cert FROM ecerts WHERE number = $1`, c.Number).Scan(&old); err != nil {
		return fmt.Errorf("certificate: %w", err)
	}
	return storesql.TakenNumber(c.Number, old, doc)
}

// Certificate implements ecert.Store.
func (s *Store) Certificate(ctx context.Context, number string) (ecert.Certificate, error) {
	var doc []byte
	err := s.pool.QueryRow(ctx, `SELECT cert FROM ecerts WHERE number = $1`, number).Scan(&doc)
	return storesql.Certificate(number, doc, err, pgx.ErrNoRows)
}

// HolderCertificates implements ecert.Store.
func (s *Store) HolderCertificates(ctx context.Context, idHash string) ([]ecert.Certificate, error) {
	rows, err := s.pool.Query(ctx, `SELECT cert FROM ecerts WHERE holder_hash = $1 ORDER BY issued_on DESC, number`, idHash)
	if err != nil {
		return nil, fmt.Errorf("certificates: %w", err)
	}
	defer rows.Close()
	return storesql.ScanCertificates(rows)
}

// LogAccess implements ecert.Store.
func (s *Store) LogAccess(ctx context.Context, a ecert.Access) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO ecert_access(holder_hash, at, kiosk, item_id, receipt, number, type_name, action) VALUES($1,$2,$3,$4,$5,$6,$7,$8)`,
		storesql.AccessArgs(a, ts(a.At))...)
	if err != nil {
		return fmt.Errorf("certificate access log: %w", err)
	}
	return nil
}

// Accesses implements ecert.Store.
func (s *Store) Accesses(ctx context.Context, idHash string, limit int) ([]ecert.Access, error) {
	rows, err := s.pool.Query(ctx, `SELECT at, kiosk, item_id, receipt, number, type_name, action FROM ecert_access
		WHERE holder_hash = $1 ORDER BY id DESC LIMIT $2`, idHash, storesql.AccessLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("certificate access log: %w", err)
	}
	defer rows.Close()
	return storesql.ScanAccesses(dialect, rows, idHash)
}

// PutReusable implements ecert.Store.
func (s *Store) PutReusable(ctx context.Context, r ecert.Reusable) error {
	doc, err := storesql.ReusableDoc(r)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO reusables(receipt, material_id, holder_hash, until, doc) VALUES($1,$2,$3,$4,$5)
		ON CONFLICT(receipt, material_id) DO UPDATE SET holder_hash = excluded.holder_hash, until = excluded.until, doc = excluded.doc`,
		r.Receipt, r.MaterialID, r.HolderHash, ts(r.Until), doc)
	if err != nil {
		return fmt.Errorf("reusable material: %w", err)
	}
	return nil
}

// Reusables implements ecert.Store.
func (s *Store) Reusables(ctx context.Context, idHash string, now time.Time) ([]ecert.Reusable, error) {
	rows, err := s.pool.Query(ctx, `SELECT doc FROM reusables WHERE holder_hash = $1 AND until > $2 ORDER BY until DESC, receipt, material_id`, idHash, ts(now))
	if err != nil {
		return nil, fmt.Errorf("reusable materials: %w", err)
	}
	defer rows.Close()
	return storesql.ScanReusables(rows, idHash)
}
