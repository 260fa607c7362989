package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"onedoor/sync/api"
	"onedoor/sync/platform"
)

// AddEnrolment registers kioskID if new (without a credential) and gives
// it a one-time enrolment code (its hash), replacing any earlier one. A
// kiosk that has a token keeps it until it enrols.
func (s *Store) AddEnrolment(ctx context.Context, kioskID, codeHash string, expires, at time.Time) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("enrolment: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO kiosks(id, token, added_at) VALUES(?, '', ?) ON CONFLICT(id) DO NOTHING`, kioskID, ts(at)); err != nil {
		return fmt.Errorf("enrolment: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO enrolments(kiosk, code_hash, expires, used_at, public_key) VALUES(?,?,?,0,'')
		ON CONFLICT(kiosk) DO UPDATE SET code_hash = excluded.code_hash, expires = excluded.expires, used_at = 0, public_key = ''`,
		kioskID, codeHash, ts(expires)); err != nil {
		return fmt.Errorf("enrolment: %w", err)
	}
	return tx.Commit()
}

// Enrol trades a live code for registering cred as kioskID's credential
// and erases its token. The same code and key again (a lost answer) gives
// the first enrolment's time; another key ErrExists; an unknown, expired or
// used code ErrNotFound.
func (s *Store) Enrol(ctx context.Context, kioskID, codeHash string, cred api.Credential, at time.Time) (time.Time, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return time.Time{}, fmt.Errorf("enrol: %w", err)
	}
	defer tx.Rollback()
	var hash, key string
	var expires, used int64
	err = tx.QueryRowContext(ctx, `SELECT code_hash, expires, used_at, public_key FROM enrolments WHERE kiosk = ?`, kioskID).Scan(&hash, &expires, &used, &key)
	if errors.Is(err, sql.ErrNoRows) || err == nil && hash != codeHash {
		return time.Time{}, platform.ErrNotFound
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("enrol: %w", err)
	}
	if used != 0 {
		if key == cred.Algorithm+":"+cred.Key {
			return fromTS(used), nil
		}
		return time.Time{}, fmt.Errorf("enrolment code already used: %w", platform.ErrExists)
	}
	if at.UnixNano() > expires {
		return time.Time{}, platform.ErrNotFound
	}
	if _, err := tx.ExecContext(ctx, `UPDATE enrolments SET used_at = ?, public_key = ? WHERE kiosk = ?`, ts(at), cred.Algorithm+":"+cred.Key, kioskID); err != nil {
		return time.Time{}, fmt.Errorf("enrol: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE kiosks SET token = '', alg = ?, public_key = ? WHERE id = ?`, cred.Algorithm, cred.Key, kioskID); err != nil {
		return time.Time{}, fmt.Errorf("enrol: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return time.Time{}, fmt.Errorf("enrol: %w", err)
	}
	return fromTS(ts(at)), nil
}

// KioskCredential returns what checks kioskID's signatures: its public
// key once enrolled, else its legacy token; ErrNotFound for an unknown
// kiosk or one that has neither yet.
func (s *Store) KioskCredential(ctx context.Context, id string) (api.Credential, error) {
	var tok, alg, key string
	err := s.r.QueryRowContext(ctx, `SELECT token, alg, public_key FROM kiosks WHERE id = ?`, id).Scan(&tok, &alg, &key)
	if errors.Is(err, sql.ErrNoRows) {
		return api.Credential{}, platform.ErrNotFound
	}
	if err != nil {
		return api.Credential{}, fmt.Errorf("kiosk credential: %w", err)
	}
	switch {
	case key != "":
		return api.Credential{Algorithm: alg, Key: key}, nil
	case tok != "":
		return api.Credential{Algorithm: api.AlgHMAC, Key: tok}, nil
	}
	return api.Credential{}, platform.ErrNotFound
}
