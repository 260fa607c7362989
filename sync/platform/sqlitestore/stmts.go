package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
)

// The intake runs the same statements for every submission. go-sqlite3
// prepares a statement anew on every Exec, which was a tenth of the
// intake's CPU; these are prepared once on the writer connection and run
// inside each group-commit transaction through Tx.StmtContext, which reuses
// the connection's prepared form.
const (
	qIdem       = `SELECT body_hash, status, body FROM idempotency WHERE kiosk = ? AND key = ?`
	qUsed       = `SELECT count(*) FROM submissions WHERE uuid = ? OR receipt = ?`
	qCaseSeq    = `INSERT INTO case_seq(year, next) VALUES(?, 1) ON CONFLICT(year) DO UPDATE SET next = next + 1 RETURNING next`
	qSubmission = `INSERT INTO submissions(uuid, receipt, case_number, kiosk, item_id, item_version,
		applicant_name, id_number, status, request, received_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)`
	qSubBlob     = `INSERT INTO submission_blobs(submission_id, seq, material_id, sha256) VALUES(?,?,?,?)`
	qStatus      = `INSERT INTO status_updates(submission_id, kiosk, status, note, actor, at) VALUES(?,?,?,?,?,?)`
	qIdemInsert  = `INSERT INTO idempotency(kiosk, key, body_hash, status, body, created_at) VALUES(?,?,?,?,?,?)`
	qSavepoint   = `SAVEPOINT intake`
	qRollbackTo  = `ROLLBACK TO intake`
	qReleaseSave = `RELEASE intake`
)

var intakeQueries = []string{qIdem, qUsed, qCaseSeq, qSubmission, qSubBlob, qStatus, qIdemInsert, qSavepoint, qRollbackTo, qReleaseSave}

// prepared holds statements prepared on the writer. It is filled at Open,
// before any transaction: with one writer connection, preparing on the DB
// while a transaction holds that connection would wait for ever.
type prepared map[string]*sql.Stmt

func prepare(ctx context.Context, db *sql.DB, queries []string) (prepared, error) {
	p := prepared{}
	for _, q := range queries {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			p.close()
			return nil, fmt.Errorf("prepare %q: %w", q, err)
		}
		p[q] = st
	}
	return p, nil
}

func (p prepared) close() {
	for _, st := range p {
		st.Close()
	}
}

// preparedTx runs a transaction's statements through p where it can.
type preparedTx struct {
	tx *sql.Tx
	p  prepared
}

func (t preparedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st, ok := t.p[query]; ok {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

func (t preparedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st, ok := t.p[query]; ok {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}
