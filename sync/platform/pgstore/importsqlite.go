package pgstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ImportStats counts what ImportSQLite copied.
type ImportStats struct {
	Kiosks, Submissions, StatusUpdates, Blobs, Idempotency, Ratings, Staff, ECerts int
}

// ImportSQLite copies every record of a SQLite platform database (the
// schema sqlitestore keeps, brought up to date by opening it with
// sqlitestore first) into this store, which must be empty, in one
// transaction: a failed import leaves nothing behind. Row ids are kept, and
// status updates take their SQLite id as their feed position, so the
// cursors kiosks hold stay valid; case numbers continue from where SQLite
// stopped. Staff sessions are not copied (staff log in again), nor help
// calls (answered or stale by then) or supervision's derived facts (rebuilt
// from the records by the first refresh).
func (s *Store) ImportSQLite(ctx context.Context, src *sql.DB) (ImportStats, error) {
	var st ImportStats
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM kiosks) + (SELECT count(*) FROM submissions) + (SELECT count(*) FROM staff)`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("the PostgreSQL database already holds %d kiosks, submissions or staff: import only into an empty one", n)
		}
		copyRows := func(name, query, insert string, conv func(scan func(...any) error) ([]any, error), count *int) error {
			rows, err := src.QueryContext(ctx, query)
			if err != nil {
				return fmt.Errorf("read %s: %w", name, err)
			}
			defer rows.Close()
			b := &pgx.Batch{}
			flush := func() error {
				if b.Len() == 0 {
					return nil
				}
				err := tx.SendBatch(ctx, b).Close()
				b = &pgx.Batch{}
				if err != nil {
					return fmt.Errorf("write %s: %w", name, err)
				}
				return nil
			}
			for rows.Next() {
				args, err := conv(rows.Scan)
				if err != nil {
					return fmt.Errorf("read %s: %w", name, err)
				}
				b.Queue(insert, args...)
				if count != nil {
					*count++
				}
				if b.Len() >= 500 {
					if err := flush(); err != nil {
						return err
					}
				}
			}
			if err := rows.Err(); err != nil {
				return fmt.Errorf("read %s: %w", name, err)
			}
			return flush()
		}
		steps := []struct {
			name, query, insert string
			conv                func(scan func(...any) error) ([]any, error)
			count               *int
		}{
			{"kiosks", `SELECT id, token, added_at, last_seen, heartbeat, alg, public_key FROM kiosks`,
				`INSERT INTO kiosks(id, token, added_at, last_seen, heartbeat, alg, public_key) VALUES($1,$2,$3,$4,$5,$6,$7)`,
				func(scan func(...any) error) ([]any, error) {
					var id, tok, hb, alg, key string
					var added, seen int64
					if err := scan(&id, &tok, &added, &seen, &hb, &alg, &key); err != nil {
						return nil, err
					}
					var hbv any
					if hb != "" {
						hbv = []byte(hb)
					}
					return []any{id, tok, nanos(added), nanosOrNil(seen), hbv, alg, key}, nil
				}, &st.Kiosks},
			{"idempotency", `SELECT kiosk, key, body_hash, status, body, created_at FROM idempotency`,
				`INSERT INTO idempotency(kiosk, key, body_hash, status, body, created_at) VALUES($1,$2,$3,$4,$5,$6)`,
				func(scan func(...any) error) ([]any, error) {
					var k, key, h string
					var status int
					var body []byte
					var at int64
					if err := scan(&k, &key, &h, &status, &body, &at); err != nil {
						return nil, err
					}
					return []any{k, key, h, status, body, nanos(at)}, nil
				}, &st.Idempotency},
			{"submissions", `SELECT id, uuid, receipt, case_number, kiosk, item_id, item_version, applicant_name, id_number, status, request, received_at, updated_at FROM submissions ORDER BY id`,
				`INSERT INTO submissions(id, uuid, receipt, case_number, kiosk, item_id, item_version, applicant_name, id_number, status, request, received_at, updated_at)
				OVERRIDING SYSTEM VALUE VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)`,
				func(scan func(...any) error) ([]any, error) {
					var id, rec, upd int64
					var u, r, cn, k, item, ver, name, idn, status, req string
					if err := scan(&id, &u, &r, &cn, &k, &item, &ver, &name, &idn, &status, &req, &rec, &upd); err != nil {
						return nil, err
					}
					return []any{id, u, r, cn, k, item, ver, name, idn, status, []byte(req), nanos(rec), nanos(upd)}, nil
				}, &st.Submissions},
			{"submission_blobs", `SELECT submission_id, seq, material_id, sha256 FROM submission_blobs`,
				`INSERT INTO submission_blobs(submission_id, seq, material_id, sha256) VALUES($1,$2,$3,$4)`,
				func(scan func(...any) error) ([]any, error) {
					var id int64
					var seq int
					var m, sha string
					if err := scan(&id, &seq, &m, &sha); err != nil {
						return nil, err
					}
					return []any{id, seq, m, sha}, nil
				}, &st.Blobs},
			{"status_updates", `SELECT id, submission_id, kiosk, status, note, actor, at FROM status_updates ORDER BY id`,
				`INSERT INTO status_updates(id, submission_id, kiosk, status, note, actor, at, seq) OVERRIDING SYSTEM VALUE VALUES($1,$2,$3,$4,$5,$6,$7,$1)`,
				func(scan func(...any) error) ([]any, error) {
					var id, sid, at int64
					var k, status, note, actor string
					if err := scan(&id, &sid, &k, &status, &note, &actor, &at); err != nil {
						return nil, err
					}
					return []any{id, sid, k, status, note, actor, nanos(at)}, nil
				}, &st.StatusUpdates},
			{"ratings", `SELECT uuid, kiosk, receipt, level, reason, at, received_at FROM ratings`,
				`INSERT INTO ratings(uuid, kiosk, receipt, level, reason, at, received_at) VALUES($1,$2,$3,$4,$5,$6,$7)`,
				func(scan func(...any) error) ([]any, error) {
					var u, k, r, reason string
					var level int
					var at, rec int64
					if err := scan(&u, &k, &r, &level, &reason, &at, &rec); err != nil {
						return nil, err
					}
					return []any{u, k, r, level, reason, nanos(at), nanos(rec)}, nil
				}, &st.Ratings},
			{"staff", `SELECT user, password_hash, added_at FROM staff`,
				`INSERT INTO staff(username, password_hash, added_at) VALUES($1,$2,$3)`,
				func(scan func(...any) error) ([]any, error) {
					var u, h string
					var at int64
					if err := scan(&u, &h, &at); err != nil {
						return nil, err
					}
					return []any{u, h, nanos(at)}, nil
				}, &st.Staff},
			{"kiosk_uploads", `SELECT kiosk, sha256, length, last_at, done FROM kiosk_uploads`,
				`INSERT INTO kiosk_uploads(kiosk, sha256, length, last_at, done) VALUES($1,$2,$3,$4,$5)`,
				func(scan func(...any) error) ([]any, error) {
					var k, sha string
					var length, at, done int64
					if err := scan(&k, &sha, &length, &at, &done); err != nil {
						return nil, err
					}
					return []any{k, sha, length, nanos(at), done != 0}, nil
				}, nil},
			{"lookups", `SELECT kiosk, receipt, at FROM lookups`,
				`INSERT INTO lookups(kiosk, receipt, at) VALUES($1,$2,$3)`,
				func(scan func(...any) error) ([]any, error) {
					var k, r string
					var at int64
					if err := scan(&k, &r, &at); err != nil {
						return nil, err
					}
					return []any{k, r, nanos(at)}, nil
				}, nil},
			{"enrolments", `SELECT kiosk, code_hash, expires, used_at, public_key FROM enrolments`,
				`INSERT INTO enrolments(kiosk, code_hash, expires, used_at, public_key) VALUES($1,$2,$3,$4,$5)`,
				func(scan func(...any) error) ([]any, error) {
					var k, h, key string
					var exp, used int64
					if err := scan(&k, &h, &exp, &used, &key); err != nil {
						return nil, err
					}
					return []any{k, h, nanos(exp), nanosOrNil(used), key}, nil
				}, nil},
			// Supervision (sqlitestore migration 4): roles, towns and
			// follow-up tasks with their steps, which staff recorded;
			// case_facts is derived and rebuilt by the first refresh.
			{"staff_roles", `SELECT user, name, role, town, set_by, set_at FROM staff_roles`,
				`INSERT INTO staff_roles(username, name, role, town, set_by, set_at) VALUES($1,$2,$3,$4,$5,$6)`,
				func(scan func(...any) error) ([]any, error) {
					var u, n, r, town, by string
					var at int64
					if err := scan(&u, &n, &r, &town, &by, &at); err != nil {
						return nil, err
					}
					return []any{u, n, r, town, by, nanos(at)}, nil
				}, nil},
			{"kiosk_towns", `SELECT kiosk, town FROM kiosk_towns`, `INSERT INTO kiosk_towns(kiosk, town) VALUES($1,$2)`,
				func(scan func(...any) error) ([]any, error) {
					var k, town string
					err := scan(&k, &town)
					return []any{k, town}, err
				}, nil},
			{"followups", `SELECT id, submission_id, receipt, kiosk, town, item_id, level, reason, opened_day, due_day, closed FROM followups`,
				`INSERT INTO followups(id, submission_id, receipt, kiosk, town, item_id, level, reason, opened_day, due_day, closed)
					OVERRIDING SYSTEM VALUE VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
				func(scan func(...any) error) ([]any, error) {
					var id, sid int64
					var r, k, town, item, reason string
					var level, opened, due, closed int32
					if err := scan(&id, &sid, &r, &k, &town, &item, &level, &reason, &opened, &due, &closed); err != nil {
						return nil, err
					}
					return []any{id, sid, r, k, town, item, level, reason, opened, due, closed != 0}, nil
				}, nil},
			{"followup_steps", `SELECT followup_id, seq, kind, text, actor, at FROM followup_steps`,
				`INSERT INTO followup_steps(followup_id, seq, kind, text, actor, at) VALUES($1,$2,$3,$4,$5,$6)`,
				func(scan func(...any) error) ([]any, error) {
					var id, at int64
					var seq int32
					var kind, text, actor string
					if err := scan(&id, &seq, &kind, &text, &actor, &at); err != nil {
						return nil, err
					}
					return []any{id, seq, kind, text, actor, nanos(at)}, nil
				}, nil},
			// E-certificates (sqlitestore migration 6).
			{"ecerts", `SELECT number, holder_hash, type_code, issued_on, cert, added_at FROM ecerts`,
				`INSERT INTO ecerts(number, holder_hash, type_code, issued_on, cert, added_at) VALUES($1,$2,$3,$4,$5,$6)`,
				func(scan func(...any) error) ([]any, error) {
					var n, h, tc, on string
					var cert []byte
					var at int64
					if err := scan(&n, &h, &tc, &on, &cert, &at); err != nil {
						return nil, err
					}
					return []any{n, h, tc, on, cert, nanos(at)}, nil
				}, &st.ECerts},
			{"ecert_access", `SELECT id, holder_hash, at, kiosk, item_id, receipt, number, type_name, action FROM ecert_access ORDER BY id`,
				`INSERT INTO ecert_access(id, holder_hash, at, kiosk, item_id, receipt, number, type_name, action)
					OVERRIDING SYSTEM VALUE VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9)`,
				func(scan func(...any) error) ([]any, error) {
					var id, at int64
					var h, k, item, r, n, tn, a string
					if err := scan(&id, &h, &at, &k, &item, &r, &n, &tn, &a); err != nil {
						return nil, err
					}
					return []any{id, h, nanos(at), k, item, r, n, tn, a}, nil
				}, nil},
			{"reusables", `SELECT receipt, material_id, holder_hash, until, doc FROM reusables`,
				`INSERT INTO reusables(receipt, material_id, holder_hash, until, doc) VALUES($1,$2,$3,$4,$5)`,
				func(scan func(...any) error) ([]any, error) {
					var r, m, h string
					var until int64
					var doc []byte
					if err := scan(&r, &m, &h, &until, &doc); err != nil {
						return nil, err
					}
					return []any{r, m, h, nanos(until), doc}, nil
				}, nil},
		}
		for _, step := range steps {
			if err := copyRows(step.name, step.query, step.insert, step.conv, step.count); err != nil {
				return err
			}
		}
		// Identities, the feed counter and the case-number sequences
		// continue after the imported rows.
		for _, q := range []string{
			`SELECT setval(pg_get_serial_sequence('submissions', 'id'), greatest((SELECT max(id) FROM submissions), 1))`,
			`SELECT setval(pg_get_serial_sequence('status_updates', 'id'), greatest((SELECT max(id) FROM status_updates), 1))`,
			`UPDATE feed_counter SET last = coalesce((SELECT max(seq) FROM status_updates), 0)`,
			`SELECT setval(pg_get_serial_sequence('followups', 'id'), greatest((SELECT max(id) FROM followups), 1))`,
			`SELECT setval(pg_get_serial_sequence('ecert_access', 'id'), greatest((SELECT max(id) FROM ecert_access), 1))`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("import: %w", err)
			}
		}
		rows, err := src.QueryContext(ctx, `SELECT year, next FROM case_seq`)
		if err != nil {
			return fmt.Errorf("read case_seq: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var year int
			var next int64
			if err := rows.Scan(&year, &next); err != nil {
				return fmt.Errorf("read case_seq: %w", err)
			}
			name := fmt.Sprintf("case_seq_%04d", year)
			if err := createCaseSequence(ctx, tx, name); err != nil {
				return fmt.Errorf("import: %w", err)
			}
			if _, err := tx.Exec(ctx, `SELECT setval('`+name+`', $1)`, next); err != nil {
				return fmt.Errorf("import: %w", err)
			}
		}
		return rows.Err()
	})
	return st, err
}

func nanos(n int64) time.Time { return ts(time.Unix(0, n)) }

func nanosOrNil(n int64) any {
	if n == 0 {
		return nil
	}
	return nanos(n)
}
