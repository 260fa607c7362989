package outbox

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// digitRunRE is a run of digits long enough to hold an ID number.
var digitRunRE = regexp.MustCompile(`\d{17,}[\dXx]`)

// maskRuns masks whole digit runs of 18 or more to their ends: inside a
// longer run MaskPersonal would mask one 18-digit window and leave the
// rest, which can be another ID-shaped window, in clear.
func maskRuns(s string) string {
	return digitRunRE.ReplaceAllStringFunc(s, func(r string) string {
		return r[:4] + strings.Repeat("*", len(r)-8) + r[len(r)-4:]
	})
}

// RecordAudit adds an event that is not a queue transition to the audit
// log: technician entries, wrong PINs, setting changes, device tests. The
// detail is masked (ID- and phone-shaped text) and capped, since callers
// pass free text.
func (s *Store) RecordAudit(ctx context.Context, event, detail string) error {
	if err := s.writable(); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("outbox: begin: %w", mapDiskFull(err))
	}
	defer tx.Rollback()
	if err := audit(ctx, tx, s.now(), truncate(event, 64), "", truncate(MaskPersonal(maskRuns(detail)), 500)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("outbox: audit: %w", mapDiskFull(err))
	}
	return nil
}
