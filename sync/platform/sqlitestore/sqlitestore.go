// Package sqlitestore is the default storage of the reference platform: one
// SQLite file (mattn/go-sqlite3) in WAL mode with synchronous=FULL, so an
// answer the platform has sent survives a power cut. One writer connection
// with immediate transactions serialises writes; a separate read pool serves
// the back office and the statuses feed.
package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"onedoor/internal/groupcommit"
	"onedoor/sync/api"
	"onedoor/sync/platform"
	"onedoor/sync/sqlitedb"
)

// Store implements platform.Store on SQLite.
type Store struct {
	w *sql.DB // one connection: every write
	r *sql.DB // read pool

	intake    chan *intakeJob
	quit      chan struct{}
	loopDone  chan struct{}
	closeOnce sync.Once
	closeErr  error
	maxBatch  int
	prepared  prepared // intake statements on w
}

var _ platform.Store = (*Store)(nil)

// caseYear is the year a case number counts in: China Standard Time, which
// has no DST, so a fixed zone needs no tzdata on the server.
func caseYear(t time.Time) int { return t.In(time.FixedZone("CST", 8*3600)).Year() }

// migrations are applied in order; user_version records how many ran.
// Append only: never edit a migration that has shipped.
var migrations = []string{
	`CREATE TABLE kiosks(
		id TEXT PRIMARY KEY, token TEXT NOT NULL, added_at INTEGER NOT NULL,
		last_seen INTEGER NOT NULL DEFAULT 0, heartbeat TEXT NOT NULL DEFAULT '');
	CREATE TABLE idempotency(
		kiosk TEXT NOT NULL, key TEXT NOT NULL, body_hash TEXT NOT NULL,
		status INTEGER NOT NULL, body BLOB NOT NULL, created_at INTEGER NOT NULL,
		PRIMARY KEY(kiosk, key));
	CREATE TABLE case_seq(year INTEGER PRIMARY KEY, next INTEGER NOT NULL);
	CREATE TABLE submissions(
		id INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT NOT NULL UNIQUE, receipt TEXT NOT NULL UNIQUE,
		case_number TEXT NOT NULL UNIQUE, kiosk TEXT NOT NULL, item_id TEXT NOT NULL,
		item_version TEXT NOT NULL, applicant_name TEXT NOT NULL, id_number TEXT NOT NULL,
		status TEXT NOT NULL, request TEXT NOT NULL, received_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
	CREATE INDEX submissions_status ON submissions(status, id);
	CREATE TABLE submission_blobs(
		submission_id INTEGER NOT NULL REFERENCES submissions(id), seq INTEGER NOT NULL,
		material_id TEXT NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY(submission_id, seq));
	CREATE INDEX submission_blobs_sha ON submission_blobs(sha256);
	CREATE TABLE status_updates(
		id INTEGER PRIMARY KEY AUTOINCREMENT, submission_id INTEGER NOT NULL REFERENCES submissions(id),
		kiosk TEXT NOT NULL, status TEXT NOT NULL, note TEXT NOT NULL, actor TEXT NOT NULL, at INTEGER NOT NULL);
	CREATE INDEX status_updates_kiosk ON status_updates(kiosk, id);
	CREATE TABLE ratings(
		uuid TEXT PRIMARY KEY, kiosk TEXT NOT NULL, receipt TEXT NOT NULL, level INTEGER NOT NULL,
		reason TEXT NOT NULL, at INTEGER NOT NULL, received_at INTEGER NOT NULL);
	CREATE TABLE staff(user TEXT PRIMARY KEY, password_hash TEXT NOT NULL, added_at INTEGER NOT NULL);
	CREATE TABLE sessions(id_hash TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES staff(user),
		csrf TEXT NOT NULL, expires INTEGER NOT NULL);`,
	// 2: what binds a kiosk to the data it may see (blob uploads it made,
	// receipts it looked up with proof).
	`CREATE TABLE kiosk_uploads(kiosk TEXT NOT NULL, sha256 TEXT NOT NULL, length INTEGER NOT NULL,
		last_at INTEGER NOT NULL, done INTEGER NOT NULL, PRIMARY KEY(kiosk, sha256));
	CREATE INDEX kiosk_uploads_sha ON kiosk_uploads(sha256);
	CREATE TABLE lookups(kiosk TEXT NOT NULL, receipt TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY(kiosk, receipt));`,
	// 3: kiosk key pairs. A kiosk enrolled with a key keeps only its public
	// key here (its token is erased); enrolments hold one-time codes by hash.
	`ALTER TABLE kiosks ADD COLUMN alg TEXT NOT NULL DEFAULT '';
	ALTER TABLE kiosks ADD COLUMN public_key TEXT NOT NULL DEFAULT '';
	CREATE TABLE enrolments(kiosk TEXT PRIMARY KEY, code_hash TEXT NOT NULL, expires INTEGER NOT NULL,
		used_at INTEGER NOT NULL, public_key TEXT NOT NULL);`,
	// 4: supervision (staff roles, kiosks' towns, case facts, follow-up
	// tasks of bad ratings); see supervise.go.
	superviseMigration,
	// 5: residents' calls for staff (issue 17); see help.go.
	helpMigration,
	// 6: the reference e-certificate library (issue 13); see ecert.go.
	ecertMigration,
}

// Options tune a Store; the zero value is the default.
type Options struct {
	// MaxBatch bounds how many submissions one group commit holds
	// (default 128). 1 turns group commit off: one fsync per submission.
	MaxBatch int
}

// Open opens (creating if needed) platform.db in dir and applies migrations.
func Open(ctx context.Context, dir string) (*Store, error) {
	return OpenOptions(ctx, dir, Options{})
}

// OpenOptions is Open with options.
func OpenOptions(ctx context.Context, dir string, opt Options) (*Store, error) {
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 128
	}
	path := filepath.Join(dir, "platform.db")
	// Kiosk tokens and applicants' data live here: create the file 0600
	// before SQLite does (it would use 0644), and SQLite gives its -wal and
	// -shm files the same mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	f.Close()
	w, r, err := sqlitedb.Open(path, sqlitedb.Options{Synchronous: "FULL", ForeignKeys: true, SecureDelete: true})
	if err != nil {
		return nil, err
	}
	s := &Store{w: w, r: r, maxBatch: opt.MaxBatch}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	if s.prepared, err = prepare(ctx, w, intakeQueries); err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	s.intake, s.quit, s.loopDone = make(chan *intakeJob), make(chan struct{}), make(chan struct{})
	go s.intakeLoop()
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("migrate: database schema %d is newer than this platformd (%d)", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, len(migrations))); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return tx.Commit()
}

// Close stops the intake loop (after its current batch) and closes both
// pools. Later calls return the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.quit)
		<-s.loopDone
		s.prepared.close()
		s.closeErr = errors.Join(s.r.Close(), s.w.Close())
	})
	return s.closeErr
}

// Ping checks that the database answers a write-path query.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	return s.w.QueryRowContext(ctx, `SELECT 1`).Scan(&n)
}

func isUnique(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique || errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
}

func ts(t time.Time) int64 { return t.UnixNano() }

func fromTS(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// AddKiosk registers a kiosk; ErrExists if the id is taken.
func (s *Store) AddKiosk(ctx context.Context, id, token string, at time.Time) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO kiosks(id, token, added_at) VALUES(?,?,?)`, id, token, ts(at))
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
	err := s.r.QueryRowContext(ctx, `SELECT token FROM kiosks WHERE id = ?`, id).Scan(&tok)
	if errors.Is(err, sql.ErrNoRows) {
		return "", platform.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("kiosk token: %w", err)
	}
	return tok, nil
}

// Kiosks lists registered kiosks with their last heartbeat.
func (s *Store) Kiosks(ctx context.Context) ([]platform.KioskInfo, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, added_at, last_seen, heartbeat FROM kiosks ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("kiosks: %w", err)
	}
	defer rows.Close()
	var out []platform.KioskInfo
	for rows.Next() {
		var k platform.KioskInfo
		var added, seen int64
		var hb string
		if err := rows.Scan(&k.ID, &added, &seen, &hb); err != nil {
			return nil, fmt.Errorf("kiosks: %w", err)
		}
		k.AddedAt, k.LastSeen = fromTS(added), fromTS(seen)
		if hb != "" {
			var h api.Heartbeat
			if json.Unmarshal([]byte(hb), &h) == nil {
				k.Heartbeat = &h
			}
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// Idempotent returns the stored answer for (kiosk, key).
func (s *Store) Idempotent(ctx context.Context, kioskID, key string) (string, platform.StoredResponse, error) {
	return idem(ctx, s.r, kioskID, key)
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func idem(ctx context.Context, q queryer, kioskID, key string) (string, platform.StoredResponse, error) {
	var h string
	var r platform.StoredResponse
	err := q.QueryRowContext(ctx, qIdem, kioskID, key).Scan(&h, &r.Status, &r.Body)
	if errors.Is(err, sql.ErrNoRows) {
		return "", r, platform.ErrNotFound
	}
	if err != nil {
		return "", r, fmt.Errorf("idempotency lookup: %w", err)
	}
	return h, r, nil
}

// replayOrConflict is the first step of every idempotent write, inside its
// transaction so two racing copies of one request cannot both proceed.
func replayOrConflict(ctx context.Context, tx queryer, kioskID, key, bodyHash string) (platform.StoredResponse, bool, error) {
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

// CreateSubmission stores a new submission; see platform.Store. Concurrent
// calls are group-committed: the intake loop runs every submission waiting
// at that moment in one transaction (each in its own savepoint, so one
// failure does not touch the others) and pays for one fsync. Nobody gets an
// answer before the commit that holds their submission has returned.
func (s *Store) CreateSubmission(ctx context.Context, rec platform.IntakeRecord, render func(api.SubmissionResponse) (platform.StoredResponse, error)) (platform.StoredResponse, bool, error) {
	j := &intakeJob{ctx: ctx, rec: rec, render: render, done: make(chan struct{})}
	select {
	case s.intake <- j:
	case <-ctx.Done():
		return platform.StoredResponse{}, false, ctx.Err()
	case <-s.quit:
		return platform.StoredResponse{}, false, errClosed
	}
	// Once queued the job always gets an answer: the loop may already be
	// writing it, so the caller must learn whether it was stored.
	<-j.done
	return j.resp, j.replay, j.err
}

var errClosed = errors.New("store closed")

type intakeJob struct {
	ctx    context.Context
	rec    platform.IntakeRecord
	render func(api.SubmissionResponse) (platform.StoredResponse, error)
	done   chan struct{}
	resp   platform.StoredResponse
	replay bool
	err    error
}

func (s *Store) intakeLoop() {
	defer close(s.loopDone)
	for {
		batch, ok := groupcommit.Next(s.intake, s.quit, s.maxBatch)
		if !ok {
			return
		}
		s.commitBatch(batch)
		for _, j := range batch {
			close(j.done)
		}
	}
}

func (s *Store) commitBatch(batch []*intakeJob) {
	// The batch is not tied to any one caller's context: a kiosk that hangs
	// up must not roll back its neighbours' submissions.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fail := func(err error) {
		for _, j := range batch {
			if j.err == nil {
				j.resp, j.replay, j.err = platform.StoredResponse{}, false, err
			}
		}
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		fail(fmt.Errorf("intake: %w", err))
		return
	}
	defer tx.Rollback()
	ptx := preparedTx{tx: tx, p: s.prepared}
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.err = err
			continue
		}
		if _, err := ptx.ExecContext(ctx, qSavepoint); err != nil {
			fail(fmt.Errorf("intake: %w", err))
			return
		}
		j.resp, j.replay, j.err = intakeOne(ctx, ptx, j.rec, j.render)
		if j.err != nil {
			if _, err := ptx.ExecContext(ctx, qRollbackTo); err != nil {
				fail(fmt.Errorf("intake: %w", err))
				return
			}
		}
		if _, err := ptx.ExecContext(ctx, qReleaseSave); err != nil {
			fail(fmt.Errorf("intake: %w", err))
			return
		}
	}
	if err := tx.Commit(); err != nil {
		for _, j := range batch {
			j.resp, j.replay, j.err = platform.StoredResponse{}, false, fmt.Errorf("intake commit: %w", err)
		}
	}
}

// intakeOne does one submission's writes inside a group-commit transaction.
func intakeOne(ctx context.Context, tx preparedTx, rec platform.IntakeRecord, render func(api.SubmissionResponse) (platform.StoredResponse, error)) (platform.StoredResponse, bool, error) {
	if r, replay, err := replayOrConflict(ctx, tx, rec.KioskID, rec.IdemKey, rec.BodyHash); err != nil || replay {
		return r, replay, err
	}
	req := rec.Req
	var n int
	if err := tx.QueryRowContext(ctx, qUsed, req.UUID, req.Receipt).Scan(&n); err != nil {
		return platform.StoredResponse{}, false, fmt.Errorf("intake: %w", err)
	}
	if n > 0 {
		return platform.StoredResponse{}, false, fmt.Errorf("submission uuid or receipt already used under another key: %w", platform.ErrExists)
	}
	year := caseYear(rec.ReceivedAt)
	var seq int64
	if err := tx.QueryRowContext(ctx, qCaseSeq, year).Scan(&seq); err != nil {
		return platform.StoredResponse{}, false, fmt.Errorf("case number: %w", err)
	}
	caseNumber := fmt.Sprintf("%s-%04d-%06d", rec.CasePrefix, year, seq)
	reqJSON, err := json.Marshal(req)
	if err != nil {
		return platform.StoredResponse{}, false, fmt.Errorf("intake: %w", err)
	}
	at := ts(rec.ReceivedAt)
	res, err := tx.ExecContext(ctx, qSubmission,
		req.UUID, req.Receipt, caseNumber, rec.KioskID, req.ItemID, req.ItemVersion,
		req.Applicant.Name, req.Applicant.IDNumber, api.StatusReceived, string(reqJSON), at, at)
	if err != nil {
		return platform.StoredResponse{}, false, fmt.Errorf("intake: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return platform.StoredResponse{}, false, fmt.Errorf("intake: %w", err)
	}
	seqNo := 0
	for _, m := range req.Materials {
		for _, p := range m.Pages {
			if _, err := tx.ExecContext(ctx, qSubBlob,
				id, seqNo, m.MaterialID, p.SHA256); err != nil {
				return platform.StoredResponse{}, false, fmt.Errorf("intake: %w", err)
			}
			seqNo++
		}
	}
	if _, err := tx.ExecContext(ctx, qStatus,
		id, rec.KioskID, api.StatusReceived, "", "intake", at); err != nil {
		return platform.StoredResponse{}, false, fmt.Errorf("intake: %w", err)
	}
	out, err := render(api.SubmissionResponse{CaseNumber: caseNumber, Receipt: req.Receipt, UUID: req.UUID, Status: api.StatusReceived, ReceivedAt: fromTS(at)})
	if err != nil {
		return platform.StoredResponse{}, false, err
	}
	if _, err := tx.ExecContext(ctx, qIdemInsert,
		rec.KioskID, rec.IdemKey, rec.BodyHash, out.Status, out.Body, at); err != nil {
		return platform.StoredResponse{}, false, fmt.Errorf("intake: %w", err)
	}
	return out, false, nil
}

// AddRating stores a rating once; see platform.Store.
func (s *Store) AddRating(ctx context.Context, rec platform.RatingRecord, render func(api.RatingResponse) (platform.StoredResponse, error)) (platform.StoredResponse, bool, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return platform.StoredResponse{}, false, fmt.Errorf("rating: %w", err)
	}
	defer tx.Rollback()
	if r, replay, err := replayOrConflict(ctx, tx, rec.KioskID, rec.IdemKey, rec.BodyHash); err != nil || replay {
		return r, replay, err
	}
	at := ts(rec.ReceivedAt)
	rt := rec.Rating
	if _, err := tx.ExecContext(ctx, `INSERT INTO ratings(uuid, kiosk, receipt, level, reason, at, received_at) VALUES(?,?,?,?,?,?,?)`,
		rt.UUID, rec.KioskID, rt.Receipt, rt.Level, rt.Reason, ts(rt.At), at); err != nil {
		if isUnique(err) {
			return platform.StoredResponse{}, false, fmt.Errorf("rating uuid already used under another key: %w", platform.ErrExists)
		}
		return platform.StoredResponse{}, false, fmt.Errorf("rating: %w", err)
	}
	out, err := render(api.RatingResponse{UUID: rt.UUID, ReceivedAt: fromTS(at)})
	if err != nil {
		return platform.StoredResponse{}, false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO idempotency(kiosk, key, body_hash, status, body, created_at) VALUES(?,?,?,?,?,?)`,
		rec.KioskID, rec.IdemKey, rec.BodyHash, out.Status, out.Body, at); err != nil {
		return platform.StoredResponse{}, false, fmt.Errorf("rating: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return platform.StoredResponse{}, false, fmt.Errorf("rating commit: %w", err)
	}
	return out, false, nil
}

// RecordHeartbeat keeps the latest heartbeat of a kiosk.
func (s *Store) RecordHeartbeat(ctx context.Context, hb api.Heartbeat, at time.Time) error {
	b, err := json.Marshal(hb)
	if err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	res, err := s.w.ExecContext(ctx, `UPDATE kiosks SET last_seen = ?, heartbeat = ? WHERE id = ?`, ts(at), string(b), hb.KioskID)
	if err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return platform.ErrNotFound
	}
	return nil
}

const updateCols = `u.id, s.receipt, s.uuid, s.case_number, u.status, u.note, u.at`

func scanUpdates(rows *sql.Rows) ([]api.StatusUpdate, int64, error) {
	defer rows.Close()
	var out []api.StatusUpdate
	var last int64
	for rows.Next() {
		var u api.StatusUpdate
		var at int64
		if err := rows.Scan(&last, &u.Receipt, &u.UUID, &u.CaseNumber, &u.Status, &u.Note, &at); err != nil {
			return nil, 0, fmt.Errorf("status updates: %w", err)
		}
		u.At = fromTS(at)
		out = append(out, u)
	}
	return out, last, rows.Err()
}

// Statuses is the per-kiosk feed; the cursor is the status_updates row id,
// which AUTOINCREMENT never reuses, so it only grows.
func (s *Store) Statuses(ctx context.Context, kioskID string, after int64, limit int) ([]api.StatusUpdate, int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+updateCols+` FROM status_updates u JOIN submissions s ON s.id = u.submission_id
		WHERE u.kiosk = ? AND u.id > ? ORDER BY u.id LIMIT ?`, kioskID, after, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("statuses: %w", err)
	}
	ups, last, err := scanUpdates(rows)
	if last == 0 {
		last = after
	}
	return ups, last, err
}

const summaryCols = `s.id, s.uuid, s.receipt, s.case_number, s.kiosk, s.item_id, s.applicant_name, s.id_number, s.status, s.received_at, s.updated_at`

func scanSummary(sc interface{ Scan(...any) error }, id *int64, sm *platform.Summary) error {
	var rec, upd int64
	if err := sc.Scan(id, &sm.UUID, &sm.Receipt, &sm.CaseNumber, &sm.KioskID, &sm.ItemID, &sm.ApplicantName, &sm.IDNumber, &sm.Status, &rec, &upd); err != nil {
		return err
	}
	sm.ReceivedAt, sm.UpdatedAt = fromTS(rec), fromTS(upd)
	return nil
}

func (s *Store) detail(ctx context.Context, where string, arg any) (platform.Detail, error) {
	var d platform.Detail
	var id int64
	var reqJSON string
	row := s.r.QueryRowContext(ctx, `SELECT `+summaryCols+`, s.request FROM submissions s WHERE `+where, arg)
	var rec, upd int64
	err := row.Scan(&id, &d.UUID, &d.Receipt, &d.CaseNumber, &d.KioskID, &d.ItemID, &d.ApplicantName, &d.IDNumber, &d.Status, &rec, &upd, &reqJSON)
	if errors.Is(err, sql.ErrNoRows) {
		return d, platform.ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("submission: %w", err)
	}
	d.ReceivedAt, d.UpdatedAt = fromTS(rec), fromTS(upd)
	if err := json.Unmarshal([]byte(reqJSON), &d.Request); err != nil {
		return d, fmt.Errorf("submission %s: stored request: %w", d.UUID, err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+updateCols+`, u.actor FROM status_updates u JOIN submissions s ON s.id = u.submission_id
		WHERE u.submission_id = ? ORDER BY u.id`, id)
	if err != nil {
		return d, fmt.Errorf("history: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var u api.StatusUpdate
		var at, uid int64
		var actor string
		if err := rows.Scan(&uid, &u.Receipt, &u.UUID, &u.CaseNumber, &u.Status, &u.Note, &at, &actor); err != nil {
			return d, fmt.Errorf("history: %w", err)
		}
		u.At = fromTS(at)
		d.History = append(d.History, u)
		d.Actors = append(d.Actors, actor)
	}
	return d, rows.Err()
}

// Track finds a submission by receipt number.
func (s *Store) Track(ctx context.Context, receipt string) (platform.Detail, error) {
	return s.detail(ctx, `s.receipt = ?`, receipt)
}

// Get finds a submission by UUID.
func (s *Store) Get(ctx context.Context, uuid string) (platform.Detail, error) {
	return s.detail(ctx, `s.uuid = ?`, uuid)
}

// Decide applies a staff decision and appends it to the statuses feed.
func (s *Store) Decide(ctx context.Context, uuid, status, note, actor string, at time.Time) (api.StatusUpdate, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return api.StatusUpdate{}, fmt.Errorf("decide: %w", err)
	}
	defer tx.Rollback()
	var id int64
	u := api.StatusUpdate{UUID: uuid, Status: status, Note: note, At: fromTS(ts(at))}
	var cur, kiosk string
	err = tx.QueryRowContext(ctx, `SELECT id, receipt, case_number, status, kiosk FROM submissions WHERE uuid = ?`, uuid).Scan(&id, &u.Receipt, &u.CaseNumber, &cur, &kiosk)
	if errors.Is(err, sql.ErrNoRows) {
		return u, platform.ErrNotFound
	}
	if err != nil {
		return u, fmt.Errorf("decide: %w", err)
	}
	if !platform.Allowed(cur, status) {
		return u, fmt.Errorf("%s -> %s: %w", cur, status, platform.ErrBadTransition)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE submissions SET status = ?, updated_at = ? WHERE id = ?`, status, ts(at), id); err != nil {
		return u, fmt.Errorf("decide: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO status_updates(submission_id, kiosk, status, note, actor, at) VALUES(?,?,?,?,?,?)`,
		id, kiosk, status, note, actor, ts(at)); err != nil {
		return u, fmt.Errorf("decide: %w", err)
	}
	return u, tx.Commit()
}

// List filters submissions for the back office, newest first.
func (s *Store) List(ctx context.Context, f platform.Filter) ([]platform.Summary, int, error) {
	var where []string
	var args []any
	if f.Status != "" {
		where, args = append(where, `s.status = ?`), append(args, f.Status)
	}
	if f.ItemID != "" {
		where, args = append(where, `s.item_id = ?`), append(args, f.ItemID)
	}
	if f.KioskID != "" {
		where, args = append(where, `s.kiosk = ?`), append(args, f.KioskID)
	}
	if f.Query != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(f.Query) + "%"
		where = append(where, `(s.receipt LIKE ? ESCAPE '\' OR s.case_number LIKE ? ESCAPE '\' OR s.applicant_name LIKE ? ESCAPE '\')`)
		args = append(args, like, like, like)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM submissions s`+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("list: %w", err)
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+summaryCols+` FROM submissions s`+cond+` ORDER BY s.id DESC LIMIT ? OFFSET ?`,
		append(args, limit, f.Offset)...)
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
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM submission_blobs WHERE sha256 = ?`, sha).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("blob lookup: %w", err)
	}
	return n > 0, nil
}

// CountByStatus counts submissions per status, for /metrics.
func (s *Store) CountByStatus(ctx context.Context) (map[string]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT status, count(*) FROM submissions GROUP BY status`)
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
	rows, err := s.r.QueryContext(ctx, `SELECT s.receipt, s.uuid, s.case_number, s.kiosk, s.item_id, s.status,
		coalesce((SELECT group_concat(sha256, ',') FROM (SELECT sha256 FROM submission_blobs b WHERE b.submission_id = s.id ORDER BY seq)), ''),
		coalesce((SELECT group_concat(n, ',') FROM (SELECT json_extract(m.value, '$.cert_number') AS n FROM json_each(CASE WHEN json_valid(s.request) THEN s.request ELSE '{}' END, '$.materials') m
			WHERE n IS NOT NULL AND n != '' ORDER BY m.key)), '')
		FROM submissions s ORDER BY s.id`)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r platform.ExportRow
		var blobs, certs string
		if err := rows.Scan(&r.Receipt, &r.UUID, &r.CaseNumber, &r.KioskID, &r.ItemID, &r.Status, &blobs, &certs); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		r.Blobs = []string{}
		if blobs != "" {
			r.Blobs = strings.Split(blobs, ",")
		}
		if certs != "" {
			r.Certs = strings.Split(certs, ",")
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// AddStaff creates a back-office account; ErrExists if the user is taken.
func (s *Store) AddStaff(ctx context.Context, user, passwordHash string, at time.Time) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO staff(user, password_hash, added_at) VALUES(?,?,?)`, user, passwordHash, ts(at))
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
	err := s.r.QueryRowContext(ctx, `SELECT password_hash FROM staff WHERE user = ?`, user).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return "", platform.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("staff: %w", err)
	}
	return h, nil
}

// CreateSession stores a session and drops expired ones.
func (s *Store) CreateSession(ctx context.Context, se platform.Session) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE expires < ?`, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO sessions(id_hash, user, csrf, expires) VALUES(?,?,?,?)`, se.IDHash, se.User, se.CSRF, ts(se.Expires)); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	return nil
}

// Session returns a live session or ErrNotFound.
func (s *Store) Session(ctx context.Context, idHash string, now time.Time) (platform.Session, error) {
	se := platform.Session{IDHash: idHash}
	var exp int64
	err := s.r.QueryRowContext(ctx, `SELECT user, csrf, expires FROM sessions WHERE id_hash = ?`, idHash).Scan(&se.User, &se.CSRF, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return se, platform.ErrNotFound
	}
	if err != nil {
		return se, fmt.Errorf("session: %w", err)
	}
	se.Expires = fromTS(exp)
	if !now.Before(se.Expires) {
		return se, platform.ErrNotFound
	}
	return se, nil
}

// DeleteSession logs a session out.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, idHash); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	return nil
}
