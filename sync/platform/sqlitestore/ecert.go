package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"onedoor/sync/platform/ecert"
	"onedoor/sync/platform/storesql"
)

var _ ecert.Store = (*Store)(nil)

// ecertMigration (6): the reference e-certificate library (issue 13):
// certificates by number and by the holder's keyed hash (never the ID
// number), the access log, and materials reusable by their holder. IF NOT
// EXISTS because it was numbered while another migration was in flight.
const ecertMigration = `CREATE TABLE IF NOT EXISTS ecerts(number TEXT PRIMARY KEY, holder_hash TEXT NOT NULL,
		type_code TEXT NOT NULL, issued_on TEXT NOT NULL, cert BLOB NOT NULL, added_at INTEGER NOT NULL);
	CREATE INDEX IF NOT EXISTS ecerts_holder ON ecerts(holder_hash, issued_on);
	CREATE TABLE IF NOT EXISTS ecert_access(id INTEGER PRIMARY KEY AUTOINCREMENT, holder_hash TEXT NOT NULL,
		at INTEGER NOT NULL, kiosk TEXT NOT NULL, item_id TEXT NOT NULL, receipt TEXT NOT NULL,
		number TEXT NOT NULL, type_name TEXT NOT NULL, action TEXT NOT NULL);
	CREATE INDEX IF NOT EXISTS ecert_access_holder ON ecert_access(holder_hash, id);
	CREATE TABLE IF NOT EXISTS reusables(receipt TEXT NOT NULL, material_id TEXT NOT NULL, holder_hash TEXT NOT NULL,
		until INTEGER NOT NULL, doc BLOB NOT NULL, PRIMARY KEY(receipt, material_id));
	CREATE INDEX IF NOT EXISTS reusables_holder ON reusables(holder_hash, until);`

// PutCertificate implements ecert.Store.
func (s *Store) PutCertificate(ctx context.Context, c ecert.Certificate, at time.Time) error {
	doc, err := storesql.CertDoc(c)
	if err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("certificate: %w", err)
	}
	defer tx.Rollback()
	var old []byte
	err = tx.QueryRowContext(ctx, `SELECT cert FROM ecerts WHERE number = ?`, c.Number).Scan(&old)
	switch {
	case err == nil:
		return storesql.TakenNumber(c.Number, old, doc)
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("certificate: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ecerts(number, holder_hash, type_code, issued_on, cert, added_at) VALUES(?,?,?,?,?,?)`,
		c.Number, c.Holder.IDHash, c.TypeCode, c.IssuedOn, doc, ts(at)); err != nil {
		return fmt.Errorf("certificate: %w", err)
	}
	return tx.Commit()
}

// Certificate implements ecert.Store.
func (s *Store) Certificate(ctx context.Context, number string) (ecert.Certificate, error) {
	var doc []byte
	err := s.r.QueryRowContext(ctx, `SELECT cert FROM ecerts WHERE number = ?`, number).Scan(&doc)
	return storesql.Certificate(number, doc, err, sql.ErrNoRows)
}

// HolderCertificates implements ecert.Store.
func (s *Store) HolderCertificates(ctx context.Context, idHash string) ([]ecert.Certificate, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT cert FROM ecerts WHERE holder_hash = ? ORDER BY issued_on DESC, number`, idHash)
	if err != nil {
		return nil, fmt.Errorf("certificates: %w", err)
	}
	defer rows.Close()
	return storesql.ScanCertificates(rows)
}

// LogAccess implements ecert.Store.
func (s *Store) LogAccess(ctx context.Context, a ecert.Access) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO ecert_access(holder_hash, at, kiosk, item_id, receipt, number, type_name, action) VALUES(?,?,?,?,?,?,?,?)`,
		storesql.AccessArgs(a, ts(a.At))...)
	if err != nil {
		return fmt.Errorf("certificate access log: %w", err)
	}
	return nil
}

// Accesses implements ecert.Store.
func (s *Store) Accesses(ctx context.Context, idHash string, limit int) ([]ecert.Access, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT at, kiosk, item_id, receipt, number, type_name, action FROM ecert_access
		WHERE holder_hash = ? ORDER BY id DESC LIMIT ?`, idHash, storesql.AccessLimit(limit))
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
	_, err = s.w.ExecContext(ctx, `INSERT INTO reusables(receipt, material_id, holder_hash, until, doc) VALUES(?,?,?,?,?)
		ON CONFLICT(receipt, material_id) DO UPDATE SET holder_hash = excluded.holder_hash, until = excluded.until, doc = excluded.doc`,
		r.Receipt, r.MaterialID, r.HolderHash, ts(r.Until), doc)
	if err != nil {
		return fmt.Errorf("reusable material: %w", err)
	}
	return nil
}

// Reusables implements ecert.Store.
func (s *Store) Reusables(ctx context.Context, idHash string, now time.Time) ([]ecert.Reusable, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT doc FROM reusables WHERE holder_hash = ? AND until > ? ORDER BY until DESC, receipt, material_id`, idHash, ts(now))
	if err != nil {
		return nil, fmt.Errorf("reusable materials: %w", err)
	}
	defer rows.Close()
	return storesql.ScanReusables(rows, idHash)
}
