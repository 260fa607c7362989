// Package storesql is the half of the platform's SQL stores that does not
// depend on the SQL dialect. For supervision (supervise.Store): the WHERE
// clauses built from a query, the column lists, scanning rows into facts
// and follow-up tasks, adding up the rows of Stats. For e-certificates
// (ecert.Store): the stored documents, the rule for a number already
// taken, scanning the lists. The stores (sqlitestore, pgstore) keep their
// SQL text and their driver calls; what differs between them is said by a
// Dialect.
package storesql

import (
	"strconv"
	"time"
)

// Scanner is a row: *sql.Row, *sql.Rows, pgx.Row and pgx.Rows are.
type Scanner interface{ Scan(dest ...any) error }

// Rows is a result set: *sql.Rows and pgx.Rows are.
type Rows interface {
	Scanner
	Next() bool
	Err() error
}

// Each runs a query and calls row with each of its rows.
type Each func(sqlText string, args []any, row func(Scanner) error) error

// Dialect is what the shared clauses need to know of a store's SQL.
type Dialect struct {
	// Param is the nth (from 1) placeholder.
	Param func(n int) string
	// True and False are the conditions that a boolean column holds or
	// does not (SQLite keeps booleans as 0 and 1, and its partial indexes
	// are on "col = 1").
	True, False func(col string) string
	// All is a condition that always holds, to which clauses are added.
	All string
	// Time gives a scan target for a timestamp column and a function
	// that returns the time scanned (UTC; zero for NULL).
	Time func() (dest any, get func() time.Time)
}

// Args collects a query's arguments and gives each its placeholder.
type Args struct {
	d    Dialect
	List []any
}

// NewArgs starts an empty argument list in dialect d.
func NewArgs(d Dialect) *Args { return &Args{d: d} }

// Add appends v and returns its placeholder.
func (a *Args) Add(v any) string {
	a.List = append(a.List, v)
	return a.d.Param(len(a.List))
}

// Numbered is the placeholder $n (PostgreSQL).
func Numbered(n int) string { return "$" + strconv.Itoa(n) }

// Question is the placeholder ? (SQLite).
func Question(int) string { return "?" }
