package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"onedoor/sync/platform"
)

var _ platform.HelpStore = (*Store)(nil)

const helpCols = `seq, id, kiosk, site, screen, at, received_at, acked_by, acked_at`

func scanHelp(row pgx.Row) (platform.HelpRecord, error) {
	var h platform.HelpRecord
	var acked *time.Time
	err := row.Scan(&h.Seq, &h.ID, &h.KioskID, &h.Site, &h.Screen, &h.At, &h.ReceivedAt, &h.AckedBy, &acked)
	h.At, h.ReceivedAt = h.At.UTC(), h.ReceivedAt.UTC()
	if acked != nil {
		h.AckedAt = acked.UTC()
	}
	return h, err
}

// AddHelp records a call; the same kiosk and ID again returns the first,
// also when two instances receive it at once.
func (s *Store) AddHelp(ctx context.Context, rec platform.HelpRecord) (platform.HelpRecord, bool, error) {
	for attempt := 0; ; attempt++ {
		h, err := scanHelp(s.pool.QueryRow(ctx, `INSERT INTO help_calls(id, kiosk, site, screen, at, received_at) VALUES($1,$2,$3,$4,$5,$6)
			ON CONFLICT(kiosk, id) DO NOTHING RETURNING `+helpCols,
			rec.ID, rec.KioskID, rec.Site, rec.Screen, ts(rec.At), ts(rec.ReceivedAt)))
		if err == nil {
			return h, false, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return rec, false, fmt.Errorf("help: %w", err)
		}
		first, err := scanHelp(s.pool.QueryRow(ctx, `SELECT `+helpCols+` FROM help_calls WHERE kiosk = $1 AND id = $2`, rec.KioskID, rec.ID))
		if err == nil {
			return first, true, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) || attempt > 2 {
			return rec, false, fmt.Errorf("help: %w", err)
		}
	}
}

// OpenHelp lists the calls not acknowledged, oldest first.
func (s *Store) OpenHelp(ctx context.Context) ([]platform.HelpRecord, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+helpCols+` FROM help_calls WHERE acked_at IS NULL ORDER BY seq`)
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

// AckHelp marks an open call acknowledged; ErrNotFound when it is not open
// (unknown, or acknowledged already, perhaps on another instance).
func (s *Store) AckHelp(ctx context.Context, seq int64, user string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE help_calls SET acked_by = $1, acked_at = $2 WHERE seq = $3 AND acked_at IS NULL`, user, ts(at), seq)
	if err != nil {
		return fmt.Errorf("help: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("help call %d: %w", seq, platform.ErrNotFound)
	}
	return nil
}
