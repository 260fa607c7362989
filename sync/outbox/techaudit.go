package outbox

import (
	"context"
	"fmt"
)

// RecordAudit adds an event that is not a queue transition to the audit
// log: technician entries, wrong PINs, setting changes, device tests. The
// detail is masked (ID- and phone-shaped text) and capped, since callers
// pass free text.
func (s *Store) RecordAudit(ctx context.Context, event, detail string) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := audit(ctx, tx, s.now(), truncate(event, 64), "", truncate(MaskPersonal(detail), 500)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("outbox: audit: %w", mapDiskFull(err))
	}
	return nil
}
