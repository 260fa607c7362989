package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"onedoor/sync/platform"
)

var _ platform.HelpStore = (*Store)(nil)

// helpMigration (5): residents' calls for staff (issue 17). A call names a
// kiosk, its site and screen, never a resident; acked_at 0 is open.
const helpMigration = `CREATE TABLE help_calls(seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, kiosk TEXT NOT NULL,
		site TEXT NOT NULL, screen TEXT NOT NULL, at INTEGER NOT NULL, received_at INTEGER NOT NULL,
		acked_by TEXT NOT NULL DEFAULT '', acked_at INTEGER NOT NULL DEFAULT 0, UNIQUE(kiosk, id));
	CREATE INDEX help_calls_open ON help_calls(acked_at, seq);`

const helpCols = `seq, id, kiosk, site, screen, at, received_at, acked_by, acked_at`

func scanHelp(row interface{ Scan(...any) error }) (platform.HelpRecord, error) {
	var h platform.HelpRecord
	var at, rec, acked int64
	err := row.Scan(&h.Seq, &h.ID, &h.KioskID, &h.Site, &h.Screen, &at, &rec, &h.AckedBy, &acked)
	h.At, h.ReceivedAt, h.AckedAt = fromTS(at), fromTS(rec), fromTS(acked)
	return h, err
}

// AddHelp records a call; the same kiosk and ID again returns the first.
func (s *Store) AddHelp(ctx context.Context, rec platform.HelpRecord) (platform.HelpRecord, bool, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return rec, false, fmt.Errorf("help: %w", err)
	}
	defer tx.Rollback()
	first, err := scanHelp(tx.QueryRowContext(ctx, `SELECT `+helpCols+` FROM help_calls WHERE kiosk = ? AND id = ?`, rec.KioskID, rec.ID))
	switch {
	case err == nil:
		return first, true, nil
	case !errors.Is(err, sql.ErrNoRows):
		return rec, false, fmt.Errorf("help: %w", err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO help_calls(id, kiosk, site, screen, at, received_at) VALUES(?,?,?,?,?,?)`,
		rec.ID, rec.KioskID, rec.Site, rec.Screen, ts(rec.At), ts(rec.ReceivedAt))
	if err != nil {
		return rec, false, fmt.Errorf("help: %w", err)
	}
	if rec.Seq, err = res.LastInsertId(); err != nil {
		return rec, false, fmt.Errorf("help: %w", err)
	}
	rec.AckedBy, rec.AckedAt = "", time.Time{}
	return rec, false, tx.Commit()
}

// OpenHelp lists the calls not acknowledged, oldest first.
func (s *Store) OpenHelp(ctx context.Context) ([]platform.HelpRecord, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+helpCols+` FROM help_calls WHERE acked_at = 0 ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("help: %w", err)
	}
	defer rows.Close()
	var out []platform.HelpRecord
	for rows.Next() {
		h, err := scanHelp(rows)
		if err != nil {
			return nil, fmt.Errorf("help: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// AckHelp marks an open call acknowledged; ErrNotFound when it is not
// open (unknown, or acknowledged already).
func (s *Store) AckHelp(ctx context.Context, seq int64, user string, at time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE help_calls SET acked_by = ?, acked_at = ? WHERE seq = ? AND acked_at = 0`, user, max(ts(at), 1), seq)
	if err != nil {
		return fmt.Errorf("help: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("help call %d: %w", seq, platform.ErrNotFound)
	}
	return nil
}
