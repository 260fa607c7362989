// Package pgstore keeps the platform's records in PostgreSQL (15 or later,
// or a compatible engine) through pgx, so several platformd instances can
// serve one city from one database. It implements platform.Store with the
// same behaviour as sqlitestore (sync/platform/storetest checks both), and
// the state the instances must share: the replay cache, login limits and
// background-job leases.
//
// Schema changes are the numbered files in migrations/, applied at Open in
// order, each in its own transaction, recorded in schema_migrations; an
// advisory lock keeps two instances starting at once from racing.
//
// The statuses feed: a status_updates row's identity is assigned when it is
// inserted, but rows commit in another order when writers overlap, so a
// reader that had moved its cursor past id 7 would never see id 6
// committing after it. Rows therefore get their feed position (seq) only
// after they are committed: a sequencing run numbers every committed,
// unnumbered row, holding feed_counter's row lock until it commits, so runs
// follow each other and every number handed out is larger than any a reader
// may already have seen. Readers start a run before reading (skipping it
// when another is under way: its rows come on the next poll).
package pgstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"onedoor/sync/api"
	"onedoor/sync/platform"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store implements platform.Store on PostgreSQL.
type Store struct {
	pool *pgxpool.Pool
	// fast serves the per-request writes of the shared state (nonces,
	// limiter failures) with synchronous_commit off; see shared.go.
	fast *pgxpool.Pool

	mu        sync.Mutex
	caseYears map[int]bool // years whose case-number sequence exists
	naiveFeed bool         // tests only: the plain id > cursor feed, to prove the conformance test catches it
	nonceUses atomic.Int64 // UseNonce calls, to prune expired nonces now and then

	intakes   chan *intakeCall // see intakegroup.go
	regrouped atomic.Int64     // intake calls sent again alone after their group failed
	handing   atomic.Int64     // intake calls waiting to hand over to the sender (tests watch it)
	quit      chan struct{}
	senders   sync.WaitGroup
	closed    sync.Once
}

var _ platform.Store = (*Store)(nil)

// Options tune a Store; the zero value is the default.
type Options struct {
	// MaxConns bounds the connection pool (default 32). Each concurrent
	// request holds at most one connection.
	MaxConns int32
}

// Open connects to the database at url (postgres://…), applies migrations
// and returns the store.
func Open(ctx context.Context, url string, opt Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	if opt.MaxConns <= 0 {
		opt.MaxConns = 32
	}
	cfg.MaxConns = opt.MaxConns
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	cfg.ConnConfig.RuntimeParams["application_name"] = "platformd"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	fcfg := cfg.Copy()
	fcfg.MaxConns = max(4, opt.MaxConns/4)
	fcfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	fast, err := pgxpool.NewWithConfig(ctx, fcfg)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	s := &Store{pool: pool, fast: fast, caseYears: map[int]bool{}, intakes: make(chan *intakeCall), quit: make(chan struct{})}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	for range intakeSenders {
		s.senders.Add(1)
		go s.intakeSender()
	}
	return s, nil
}

// Pool is the connection pool, for admin commands (migrate, verify).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, n := range names {
		base := strings.TrimPrefix(n, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration file %s: name must start with its number", n)
		}
		b, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected number %d", m.name, i+1)
		}
	}
	return out, nil
}

// migrationLock is the advisory lock key that serialises instances applying
// migrations ("odmigr" in ASCII).
const migrationLock = 0x6f646d69677272

func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLock)); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, int64(migrationLock))
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations(version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var cur int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&cur); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if cur > len(ms) {
		return fmt.Errorf("migrate: database schema %d is newer than this platformd (%d)", cur, len(ms))
	}
	for _, m := range ms[cur:] {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations(version, name) VALUES($1, $2)`, m.version, m.name)
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.closed.Do(func() { close(s.quit) })
	s.senders.Wait()
	s.pool.Close()
	s.fast.Close()
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT 1`).Scan(&n); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// ts is t as PostgreSQL keeps it (microseconds), so what a caller is told
// equals what a later read returns.
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// caseYear is the year a case number counts in (China Standard Time), as
// in sqlitestore.
func caseYear(t time.Time) int { return t.In(time.FixedZone("CST", 8*3600)).Year() }

// AddKiosk registers a kiosk; ErrExists if the id is taken.
func (s *Store) AddKiosk(ctx context.Context, id, token string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO kiosks(id, token, added_at) VALUES($1,$2,$3)`, id, token, ts(at))
	if isUnique(err) {
		return fmt.Errorf("kiosk %q: %w", id, platform.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("add kiosk: %w", err)
	}
	return nil
}

// KioskToken returns a kiosk's token or ErrNotFound.
func (s *Store) KioskToken(ctx context.Context, id string) (string, error) {
	var tok string
	err := s.pool.QueryRow(ctx, `SELECT token FROM kiosks WHERE id = $1`, id).Scan(&tok)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", platform.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("kiosk token: %w", err)
	}
	return tok, nil
}

// Kiosks lists registered kiosks with their last heartbeat.
func (s *Store) Kiosks(ctx context.Context) ([]platform.KioskInfo, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, added_at, last_seen, heartbeat FROM kiosks ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("kiosks: %w", err)
	}
	defer rows.Close()
	var out []platform.KioskInfo
	for rows.Next() {
		var k platform.KioskInfo
		var seen *time.Time
		var hb []byte
		if err := rows.Scan(&k.ID, &k.AddedAt, &seen, &hb); err != nil {
			return nil, fmt.Errorf("kiosks: %w", err)
		}
		k.AddedAt = k.AddedAt.UTC()
		if seen != nil {
			k.LastSeen = seen.UTC()
		}
		if len(hb) > 0 {
			var h api.Heartbeat
			if json.Unmarshal(hb, &h) == nil {
				k.Heartbeat = &h
			}
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RecordHeartbeat keeps the latest heartbeat of a kiosk.
func (s *Store) RecordHeartbeat(ctx context.Context, hb api.Heartbeat, at time.Time) error {
	b, err := json.Marshal(hb)
	if err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE kiosks SET last_seen = $1, heartbeat = $2 WHERE id = $3`, ts(at), b, hb.KioskID)
	if err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return platform.ErrNotFound
	}
	return nil
}

// Idempotent returns the stored answer for (kiosk, key).
func (s *Store) Idempotent(ctx context.Context, kioskID, key string) (string, platform.StoredResponse, error) {
	return idem(ctx, s.pool, kioskID, key)
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

const qIdem = `SELECT body_hash, status, body FROM idempotency WHERE kiosk = $1 AND key = $2`

func idem(ctx context.Context, q querier, kioskID, key string) (string, platform.StoredResponse, error) {
	var h string
	var r platform.StoredResponse
	err := q.QueryRow(ctx, qIdem, kioskID, key).Scan(&h, &r.Status, &r.Body)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", r, platform.ErrNotFound
	}
	if err != nil {
		return "", r, fmt.Errorf("idempotency lookup: %w", err)
	}
	return h, r, nil
}

// lockKey serialises the requests that carry one idempotency key, on any
// instance: the second waits for the first to commit, then replays it.
const qLockKey = `SELECT pg_advisory_xact_lock(hashtextextended($1 || chr(31) || $2, 0))`

// replayOrConflict is the first step of every idempotent write, inside its
// transaction after the key's lock.
func replayOrConflict(ctx context.Context, tx pgx.Tx, kioskID, key, bodyHash string) (platform.StoredResponse, bool, error) {
	if _, err := tx.Exec(ctx, qLockKey, kioskID, key); err != nil {
		return platform.StoredResponse{}, false, fmt.Errorf("idempotency lock: %w", err)
	}
	h, r, err := idem(ctx, tx, kioskID, key)
	if errors.Is(err, platform.ErrNotFound) {
		return r, false, nil
	}
	if err != nil {
		return r, false, err
	}
	if h != bodyHash {
		return r, false, platform.ErrIdempotencyConflict
	}
	return r, true, nil
}

// caseSequence makes sure the case-number sequence of year exists and
// returns its name. One sequence per year keeps numbering per year, as the
// SQLite store does, without a counter row every intake would queue on;
// a number taken by an intake that then fails is not reused (case numbers
// are unique and increasing, not gapless).
func (s *Store) caseSequence(ctx context.Context, year int) (string, error) {
	name := fmt.Sprintf("case_seq_%04d", year)
	s.mu.Lock()
	known := s.caseYears[year]
	s.mu.Unlock()
	if known {
		return name, nil
	}
	// CREATE SEQUENCE IF NOT EXISTS is not safe against itself: two
	// instances creating the same sequence at once can both pass the
	// "not exists" check and one then fails, with 42P07 or 23505 on the
	// catalog. Creating it under one advisory lock makes the second wait
	// for the first's commit, and then see the sequence.
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return createCaseSequence(ctx, tx, name) })
	if err != nil {
		return "", fmt.Errorf("case number sequence: %w", err)
	}
	s.mu.Lock()
	s.caseYears[year] = true
	s.mu.Unlock()
	return name, nil
}

// createCaseSequence creates the sequence name unless it exists, inside tx
// and under the one lock every creator takes (see caseSequence).
func createCaseSequence(ctx context.Context, tx pgx.Tx, name string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('onedoor case_seq', 0))`); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `CREATE SEQUENCE IF NOT EXISTS `+name)
	return err
}

// CreateSubmission stores a new submission; see platform.Store. It is one
// statement, so one round trip and one transaction: the intake function
// (migration 6) takes the key's lock, replays or refuses, and otherwise
// takes the case number and inserts everything. PostgreSQL groups
// concurrent commits into shared WAL flushes by itself.
//
// The answer must be stored in the same transaction, but render needs the
// case number, which the function takes. So render is called first with a
// random token in the case number's digits, and the function puts the
// digits in the token's place. The token is alphanumeric, which no encoder
// escapes; when render's answer does not hold it exactly once (an answer
// that transforms the number), the case number is taken in a round trip
// of its own, outside any transaction, and render is called with it.
func (s *Store) CreateSubmission(ctx context.Context, rec platform.IntakeRecord, render func(api.SubmissionResponse) (platform.StoredResponse, error)) (platform.StoredResponse, bool, error) {
	var none platform.StoredResponse
	at := ts(rec.ReceivedAt)
	year := caseYear(at)
	seqName, err := s.caseSequence(ctx, year)
	if err != nil {
		return none, false, err
	}
	req := rec.Req
	reqJSON, err := json.Marshal(req)
	if err != nil {
		return none, false, fmt.Errorf("intake: %w", err)
	}
	caseHead := fmt.Sprintf("%s-%04d-", rec.CasePrefix, year)
	resp := api.SubmissionResponse{Receipt: req.Receipt, UUID: req.UUID, Status: api.StatusReceived, ReceivedAt: at}
	token := rand.Text()
	resp.CaseNumber = caseHead + token
	out, err := render(resp)
	if err != nil {
		return none, false, err
	}
	var seq *int64
	var head, tail []byte
	if bytes.Count(out.Body, []byte(token)) == 1 {
		head, tail, _ = bytes.Cut(out.Body, []byte(token))
	} else {
		var n int64
		var digits string
		if err := s.pool.QueryRow(ctx, `SELECT n, case_digits(n) FROM nextval($1::regclass) AS n`, seqName).Scan(&n, &digits); err != nil {
			return none, false, fmt.Errorf("intake: case number: %w", err)
		}
		resp.CaseNumber = caseHead + digits
		if out, err = render(resp); err != nil {
			return none, false, err
		}
		seq, head = &n, out.Body
	}
	var mats, shas []string
	var seqs []int32
	for _, m := range req.Materials {
		for _, p := range m.Pages {
			seqs, mats, shas = append(seqs, int32(len(seqs))), append(mats, m.MaterialID), append(shas, p.SHA256)
		}
	}
	ans := s.callIntake(ctx, []any{rec.KioskID, rec.IdemKey, rec.BodyHash,
		req.UUID, req.Receipt, seqName, caseHead, seq,
		req.ItemID, req.ItemVersion, req.Applicant.Name, req.Applicant.IDNumber, api.StatusReceived,
		reqJSON, at, seqs, mats, shas,
		out.Status, head, tail})
	outcome, status, body, err := ans.outcome, ans.status, ans.body, ans.err
	switch {
	case isUnique(err) || err == nil && outcome == "used":
		return none, false, fmt.Errorf("submission uuid or receipt already used under another key: %w", platform.ErrExists)
	case err != nil:
		return none, false, fmt.Errorf("intake: %w", err)
	case outcome == "conflict":
		return none, false, platform.ErrIdempotencyConflict
	case outcome == "replay" || outcome == "created":
		if status == nil {
			return none, false, fmt.Errorf("intake: %s without an answer", outcome)
		}
		return platform.StoredResponse{Status: *status, Body: body}, outcome == "replay", nil
	}
	return none, false, fmt.Errorf("intake: unknown outcome %q", outcome)
}

// AddRating stores a rating once; see platform.Store.
func (s *Store) AddRating(ctx context.Context, rec platform.RatingRecord, render func(api.RatingResponse) (platform.StoredResponse, error)) (platform.StoredResponse, bool, error) {
	var out platform.StoredResponse
	var replay bool
	at := ts(rec.ReceivedAt)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		r, rp, err := replayOrConflict(ctx, tx, rec.KioskID, rec.IdemKey, rec.BodyHash)
		if err != nil || rp {
			out, replay = r, rp
			return err
		}
		rt := rec.Rating
		if _, err := tx.Exec(ctx, `INSERT INTO ratings(uuid, kiosk, receipt, level, reason, at, received_at) VALUES($1,$2,$3,$4,$5,$6,$7)`,
			rt.UUID, rec.KioskID, rt.Receipt, rt.Level, rt.Reason, ts(rt.At), at); err != nil {
			if isUnique(err) {
				return fmt.Errorf("rating uuid already used under another key: %w", platform.ErrExists)
			}
			return fmt.Errorf("rating: %w", err)
		}
		out, err = render(api.RatingResponse{UUID: rt.UUID, ReceivedAt: at})
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO idempotency(kiosk, key, body_hash, status, body, created_at) VALUES($1,$2,$3,$4,$5,$6)`,
			rec.KioskID, rec.IdemKey, rec.BodyHash, out.Status, out.Body, at); err != nil {
			return fmt.Errorf("rating: %w", err)
		}
		return nil
	})
	if err != nil {
		return platform.StoredResponse{}, false, err
	}
	return out, replay, nil
}

// sequence numbers the committed status updates that have no feed position
// yet (see the package comment). When another run holds the counter it
// returns at once: that run numbers what this one would have.
func (s *Store) sequence(ctx context.Context) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var last int64
		err := tx.QueryRow(ctx, `SELECT last FROM feed_counter FOR UPDATE SKIP LOCKED`).Scan(&last)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // another run is under way
		}
		if err != nil {
			return err
		}
		var n int64
		err = tx.QueryRow(ctx, `WITH todo AS (
				SELECT id, $1::bigint + row_number() OVER (ORDER BY id) AS seq
				FROM status_updates WHERE seq IS NULL ORDER BY id LIMIT 50000),
			done AS (UPDATE status_updates u SET seq = todo.seq FROM todo WHERE u.id = todo.id RETURNING 1)
			SELECT count(*) FROM done`, last).Scan(&n)
		if err != nil {
			return err
		}
		// Ratings take their feed positions from the same counter (the
		// supervision refresh follows them by it, migration 5).
		var m int64
		err = tx.QueryRow(ctx, `WITH todo AS (
				SELECT id, $1::bigint + row_number() OVER (ORDER BY id) AS seq
				FROM ratings WHERE seq IS NULL ORDER BY id LIMIT 50000),
			done AS (UPDATE ratings r SET seq = todo.seq FROM todo WHERE r.id = todo.id RETURNING 1)
			SELECT count(*) FROM done`, last+n).Scan(&m)
		if err != nil || n+m == 0 {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE feed_counter SET last = $1`, last+n+m)
		return err
	})
}

// Statuses is the per-kiosk feed; the cursor is the feed position (seq),
// given only to committed rows, in commit order.
func (s *Store) Statuses(ctx context.Context, kioskID string, after int64, limit int) ([]api.StatusUpdate, int64, error) {
	q := `SELECT u.seq, s.receipt, s.uuid, s.case_number, u.status, u.note, u.at
		FROM status_updates u JOIN submissions s ON s.id = u.submission_id
		WHERE u.kiosk = $1 AND u.seq > $2 ORDER BY u.seq LIMIT $3`
	if s.naiveFeed {
		q = `SELECT u.id, s.receipt, s.uuid, s.case_number, u.status, u.note, u.at
		FROM status_updates u JOIN submissions s ON s.id = u.submission_id
		WHERE u.kiosk = $1 AND u.id > $2 ORDER BY u.id LIMIT $3`
	} else if err := s.sequence(ctx); err != nil {
		return nil, 0, fmt.Errorf("statuses: sequencing: %w", err)
	}
	rows, err := s.pool.Query(ctx, q, kioskID, after, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("statuses: %w", err)
	}
	defer rows.Close()
	var out []api.StatusUpdate
	last := after
	for rows.Next() {
		var u api.StatusUpdate
		if err := rows.Scan(&last, &u.Receipt, &u.UUID, &u.CaseNumber, &u.Status, &u.Note, &u.At); err != nil {
			return nil, 0, fmt.Errorf("statuses: %w", err)
		}
		u.At = u.At.UTC()
		out = append(out, u)
	}
	return out, last, rows.Err()
}

const summaryCols = `s.id, s.uuid, s.receipt, s.case_number, s.kiosk, s.item_id, s.applicant_name, s.id_number, s.status, s.received_at, s.updated_at`

func scanSummary(sc interface{ Scan(...any) error }, id *int64, sm *platform.Summary, extra ...any) error {
	if err := sc.Scan(append([]any{id, &sm.UUID, &sm.Receipt, &sm.CaseNumber, &sm.KioskID, &sm.ItemID, &sm.ApplicantName, &sm.IDNumber, &sm.Status, &sm.ReceivedAt, &sm.UpdatedAt}, extra...)...); err != nil {
		return err
	}
	sm.ReceivedAt, sm.UpdatedAt = sm.ReceivedAt.UTC(), sm.UpdatedAt.UTC()
	return nil
}

func (s *Store) detail(ctx context.Context, where string, arg any) (platform.Detail, error) {
	var d platform.Detail
	var id int64
	var reqJSON []byte
	err := scanSummary(s.pool.QueryRow(ctx, `SELECT `+summaryCols+`, s.request FROM submissions s WHERE `+where, arg), &id, &d.Summary, &reqJSON)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, platform.ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("submission: %w", err)
	}
	if err := json.Unmarshal(reqJSON, &d.Request); err != nil {
		return d, fmt.Errorf("submission %s: stored request: %w", d.UUID, err)
	}
	rows, err := s.pool.Query(ctx, `SELECT u.status, u.note, u.at, u.actor FROM status_updates u WHERE u.submission_id = $1 ORDER BY u.id`, id)
	if err != nil {
		return d, fmt.Errorf("history: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		u := api.StatusUpdate{Receipt: d.Receipt, UUID: d.UUID, CaseNumber: d.CaseNumber}
		var actor string
		if err := rows.Scan(&u.Status, &u.Note, &u.At, &actor); err != nil {
			return d, fmt.Errorf("history: %w", err)
		}
		u.At = u.At.UTC()
		d.History = append(d.History, u)
		d.Actors = append(d.Actors, actor)
	}
	return d, rows.Err()
}

// Track finds a submission by receipt number.
func (s *Store) Track(ctx context.Context, receipt string) (platform.Detail, error) {
	return s.detail(ctx, `s.receipt = $1`, receipt)
}

// Get finds a submission by UUID.
func (s *Store) Get(ctx context.Context, uuid string) (platform.Detail, error) {
	return s.detail(ctx, `s.uuid = $1`, uuid)
}

// Decide applies a staff decision and appends it to the statuses feed. The
// case's row is locked, so two staff members deciding at once on two
// instances are applied one after the other and the second is checked
// against the first.
func (s *Store) Decide(ctx context.Context, uuid, status, note, actor string, at time.Time) (api.StatusUpdate, error) {
	at = ts(at)
	u := api.StatusUpdate{UUID: uuid, Status: status, Note: note, At: at}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var id int64
		var cur, kiosk string
		err := tx.QueryRow(ctx, `SELECT id, receipt, case_number, status, kiosk FROM submissions WHERE uuid = $1 FOR UPDATE`, uuid).Scan(&id, &u.Receipt, &u.CaseNumber, &cur, &kiosk)
		if errors.Is(err, pgx.ErrNoRows) {
			return platform.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("decide: %w", err)
		}
		if !platform.Allowed(cur, status) {
			return fmt.Errorf("%s -> %s: %w", cur, status, platform.ErrBadTransition)
		}
		b := &pgx.Batch{}
		b.Queue(`UPDATE submissions SET status = $1, updated_at = $2 WHERE id = $3`, status, at, id)
		b.Queue(`INSERT INTO status_updates(submission_id, kiosk, status, note, actor, at) VALUES($1,$2,$3,$4,$5,$6)`, id, kiosk, status, note, actor, at)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("decide: %w", err)
		}
		return nil
	})
	return u, err
}

// List filters submissions for the back office, newest first.
func (s *Store) List(ctx context.Context, f platform.Filter) ([]platform.Summary, int, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if f.Status != "" {
		where = append(where, `s.status = `+arg(f.Status))
	}
	if f.ItemID != "" {
		where = append(where, `s.item_id = `+arg(f.ItemID))
	}
	if f.KioskID != "" {
		where = append(where, `s.kiosk = `+arg(f.KioskID))
	}
	if f.Query != "" {
		p := arg("%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(f.Query) + "%")
		where = append(where, `(s.receipt LIKE `+p+` OR s.case_number LIKE `+p+` OR s.applicant_name LIKE `+p+`)`)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM submissions s`+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("list: %w", err)
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	q := `SELECT ` + summaryCols + ` FROM submissions s` + cond + ` ORDER BY s.id DESC LIMIT ` + arg(limit) + ` OFFSET ` + arg(f.Offset)
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list: %w", err)
	}
	defer rows.Close()
	var out []platform.Summary
	for rows.Next() {
		var id int64
		var sm platform.Summary
		if err := scanSummary(rows, &id, &sm); err != nil {
			return nil, 0, fmt.Errorf("list: %w", err)
		}
		out = append(out, sm)
	}
	return out, total, rows.Err()
}

// SubmissionHasBlob reports whether any submission names the blob.
func (s *Store) SubmissionHasBlob(ctx context.Context, sha string) (bool, error) {
	var ok bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS(SELECT 1 FROM submission_blobs WHERE sha256 = $1)`, sha).Scan(&ok); err != nil {
		return false, fmt.Errorf("blob lookup: %w", err)
	}
	return ok, nil
}

// CountByStatus counts submissions per status, for /metrics.
func (s *Store) CountByStatus(ctx context.Context) (map[string]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT status, count(*) FROM submissions GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("count: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("count: %w", err)
		}
		out[st] = n
	}
	return out, rows.Err()
}

// Export calls fn for every submission in the order received.
func (s *Store) Export(ctx context.Context, fn func(platform.ExportRow) error) error {
	rows, err := s.pool.Query(ctx, `SELECT s.receipt, s.uuid, s.case_number, s.kiosk, s.item_id, s.status,
		coalesce((SELECT array_agg(sha256 ORDER BY seq) FROM submission_blobs b WHERE b.submission_id = s.id), '{}'),
		(SELECT array_agg(m.v->>'cert_number' ORDER BY m.i) FROM jsonb_array_elements(
			CASE WHEN jsonb_typeof(s.request->'materials') = 'array' THEN s.request->'materials' ELSE '[]' END) WITH ORDINALITY AS m(v, i)
			WHERE coalesce(m.v->>'cert_number', '') <> '')
		FROM submissions s ORDER BY s.id`)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r platform.ExportRow
		if err := rows.Scan(&r.Receipt, &r.UUID, &r.CaseNumber, &r.KioskID, &r.ItemID, &r.Status, &r.Blobs, &r.Certs); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if r.Blobs == nil {
			r.Blobs = []string{}
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// AddStaff creates a back-office account; ErrExists if the user is taken.
func (s *Store) AddStaff(ctx context.Context, user, passwordHash string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO staff(username, password_hash, added_at) VALUES($1,$2,$3)`, user, passwordHash, ts(at))
	if isUnique(err) {
		return fmt.Errorf("staff %q: %w", user, platform.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("add staff: %w", err)
	}
	return nil
}

// StaffHash returns the password hash of a user or ErrNotFound.
func (s *Store) StaffHash(ctx context.Context, user string) (string, error) {
	var h string
	err := s.pool.QueryRow(ctx, `SELECT password_hash FROM staff WHERE username = $1`, user).Scan(&h)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", platform.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("staff: %w", err)
	}
	return h, nil
}

// CreateSession stores a session and drops expired ones.
func (s *Store) CreateSession(ctx context.Context, se platform.Session) error {
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM sessions WHERE expires < $1`, time.Now())
	b.Queue(`INSERT INTO sessions(id_hash, username, csrf, expires) VALUES($1,$2,$3,$4)`, se.IDHash, se.User, se.CSRF, ts(se.Expires))
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	return nil
}

// Session returns a live session or ErrNotFound.
func (s *Store) Session(ctx context.Context, idHash string, now time.Time) (platform.Session, error) {
	se := platform.Session{IDHash: idHash}
	err := s.pool.QueryRow(ctx, `SELECT username, csrf, expires FROM sessions WHERE id_hash = $1`, idHash).Scan(&se.User, &se.CSRF, &se.Expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return se, platform.ErrNotFound
	}
	if err != nil {
		return se, fmt.Errorf("session: %w", err)
	}
	se.Expires = se.Expires.UTC()
	if !now.Before(se.Expires) {
		return se, platform.ErrNotFound
	}
	return se, nil
}

// DeleteSession logs a session out.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE id_hash = $1`, idHash); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	return nil
}

// NoteUpload records that kioskID is uploading blob sha (length bytes), or
// moves its last-progress time forward.
func (s *Store) NoteUpload(ctx context.Context, kioskID, sha string, length int64, at time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO kiosk_uploads(kiosk, sha256, length, last_at, done) VALUES($1,$2,$3,$4,false)
		ON CONFLICT(kiosk, sha256) DO UPDATE SET length = excluded.length, last_at = excluded.last_at`, kioskID, sha, length, ts(at))
	if err != nil {
		return fmt.Errorf("note upload: %w", err)
	}
	return nil
}

// UploadDone marks blob sha complete for every kiosk that uploaded it.
func (s *Store) UploadDone(ctx context.Context, sha string) error {
	if _, err := s.pool.Exec(ctx, `UPDATE kiosk_uploads SET done = true WHERE sha256 = $1 AND NOT done`, sha); err != nil {
		return fmt.Errorf("upload done: %w", err)
	}
	return nil
}

// Unfinished lists kioskID's uploads not done that progressed at or after since.
func (s *Store) Unfinished(ctx context.Context, kioskID string, since time.Time) ([]platform.Upload, error) {
	rows, err := s.pool.Query(ctx, `SELECT sha256, length, last_at FROM kiosk_uploads WHERE kiosk = $1 AND NOT done AND last_at >= $2 ORDER BY last_at`, kioskID, ts(since))
	if err != nil {
		return nil, fmt.Errorf("unfinished uploads: %w", err)
	}
	defer rows.Close()
	var out []platform.Upload
	for rows.Next() {
		var u platform.Upload
		if err := rows.Scan(&u.SHA256, &u.Length, &u.LastAt); err != nil {
			return nil, fmt.Errorf("unfinished uploads: %w", err)
		}
		u.LastAt = u.LastAt.UTC()
		out = append(out, u)
	}
	return out, rows.Err()
}

// KioskKnowsBlob reports whether kioskID uploaded blob sha or named it in
// one of its stored submissions.
func (s *Store) KioskKnowsBlob(ctx context.Context, kioskID, sha string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS(SELECT 1 FROM kiosk_uploads WHERE kiosk = $1 AND sha256 = $2)
		OR EXISTS(SELECT 1 FROM submission_blobs b JOIN submissions s ON s.id = b.submission_id WHERE b.sha256 = $2 AND s.kiosk = $1)`,
		kioskID, sha).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("kiosk blob: %w", err)
	}
	return ok, nil
}

// RecordLookup notes that kioskID looked up receipt with proof.
func (s *Store) RecordLookup(ctx context.Context, kioskID, receipt string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO lookups(kiosk, receipt, at) VALUES($1,$2,$3)
		ON CONFLICT(kiosk, receipt) DO UPDATE SET at = excluded.at`, kioskID, receipt, ts(at))
	if err != nil {
		return fmt.Errorf("record lookup: %w", err)
	}
	return nil
}

// MayRate reports whether a submission has receipt, and whether kioskID
// submitted it or looked it up with proof.
func (s *Store) MayRate(ctx context.Context, kioskID, receipt string) (exists, allowed bool, err error) {
	var kiosk string
	var looked bool
	err = s.pool.QueryRow(ctx, `SELECT s.kiosk, EXISTS(SELECT 1 FROM lookups l WHERE l.kiosk = $1 AND l.receipt = $2)
		FROM submissions s WHERE s.receipt = $2`, kioskID, receipt).Scan(&kiosk, &looked)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("may rate: %w", err)
	}
	return true, kiosk == kioskID || looked, nil
}
