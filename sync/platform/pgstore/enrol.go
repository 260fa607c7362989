package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"onedoor/sync/api"
	"onedoor/sync/platform"
)

// AddEnrolment registers kioskID if new (without a credential) and gives
// it a one-time enrolment code (its hash), replacing any earlier one. A
// kiosk that has a token keeps it until it enrols.
func (s *Store) AddEnrolment(ctx context.Context, kioskID, codeHash string, expires, at time.Time) error {
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO kiosks(id, token, added_at) VALUES($1, '', $2) ON CONFLICT(id) DO NOTHING`, kioskID, ts(at))
	b.Queue(`INSERT INTO enrolments(kiosk, code_hash, expires, used_at, public_key) VALUES($1,$2,$3,NULL,'')
		ON CONFLICT(kiosk) DO UPDATE SET code_hash = excluded.code_hash, expires = excluded.expires, used_at = NULL, public_key = ''`,
		kioskID, codeHash, ts(expires))
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return tx.SendBatch(ctx, b).Close() })
	if err != nil {
		return fmt.Errorf("enrolment: %w", err)
	}
	return nil
}

// Enrol trades a live code for registering cred as kioskID's credential
// and erases its token; see platform.Store. The enrolment row is locked, so
// two instances enrolling one kiosk at once agree on the outcome.
func (s *Store) Enrol(ctx context.Context, kioskID, codeHash string, cred api.Credential, at time.Time) (time.Time, error) {
	at = ts(at)
	var when time.Time
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var hash, key string
		var expires time.Time
		var used *time.Time
		err := tx.QueryRow(ctx, `SELECT code_hash, expires, used_at, public_key FROM enrolments WHERE kiosk = $1 FOR UPDATE`, kioskID).Scan(&hash, &expires, &used, &key)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && hash != codeHash {
			return platform.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("enrol: %w", err)
		}
		if used != nil {
			if key == cred.Algorithm+":"+cred.Key {
				when = used.UTC()
				return nil
			}
			return fmt.Errorf("enrolment code already used: %w", platform.ErrExists)
		}
		if at.After(expires) {
			return platform.ErrNotFound
		}
		b := &pgx.Batch{}
		b.Queue(`UPDATE enrolments SET used_at = $1, public_key = $2 WHERE kiosk = $3`, at, cred.Algorithm+":"+cred.Key, kioskID)
		b.Queue(`UPDATE kiosks SET token = '', alg = $1, public_key = $2 WHERE id = $3`, cred.Algorithm, cred.Key, kioskID)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("enrol: %w", err)
		}
		when = at
		return nil
	})
	return when, err
}

// KioskCredential returns what checks kioskID's signatures: its public
// key once enrolled, else its legacy token; ErrNotFound for an unknown
// kiosk or one that has neither yet.
func (s *Store) KioskCredential(ctx context.Context, id string) (api.Credential, error) {
	var tok, alg, key string
	err := s.pool.QueryRow(ctx, `SELECT token, alg, public_key FROM kiosks WHERE id = $1`, id).Scan(&tok, &alg, &key)
	if errors.Is(err, pgx.ErrNoRows) {
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
