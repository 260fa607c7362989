package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"onedoor/sync/platform"
	"onedoor/sync/platform/city"
)

// storage is the storage flags every command shares.
type storage struct {
	data, db, blobs, dataKey *string
}

func storageFlags(fs *flag.FlagSet) *storage {
	return &storage{
		data:    fs.String("data", "", "data directory (SQLite database and blob folder by default)"),
		db:      fs.String("db", os.Getenv("ONEDOOR_DB"), "records in PostgreSQL: postgres://USER@HOST:PORT/DB (default $ONEDOOR_DB; else SQLite in --data)"),
		blobs:   fs.String("blobs", os.Getenv("ONEDOOR_BLOBS"), "blobs in an S3 bucket: s3://KEY:SECRET@HOST:PORT/BUCKET[/PREFIX][?secure=true] (default $ONEDOOR_BLOBS; else DATA/blobs)"),
		dataKey: fs.String("data-key", os.Getenv("ONEDOOR_DATA_KEY"), "file of the key sealing applicants' data and scanned pages, the same for every instance (default $ONEDOOR_DATA_KEY; else DATA/data.key)"),
	}
}

func (s *storage) options() city.Options {
	return city.Options{Data: *s.data, DB: *s.db, Blobs: *s.blobs, DataKey: *s.dataKey}
}

// check says on stderr what is missing: a data directory unless both the
// database and the blobs are elsewhere (admin commands need only the
// database).
func (s *storage) check(cmd string, stderr io.Writer) bool {
	if *s.data == "" && *s.db == "" {
		fmt.Fprintf(stderr, "platformd %s: --data DIR (or --db postgres://…) is required\n", cmd)
		return false
	}
	if cmd == "serve" && *s.data == "" && *s.blobs == "" {
		fmt.Fprintf(stderr, "platformd %s: --data DIR or --blobs s3://… is required for the blobs\n", cmd)
		return false
	}
	return true
}

// sqliteDir is the SQLite data directory in use, or "" on PostgreSQL.
func (s *storage) sqliteDir() string {
	if strings.HasPrefix(*s.db, "postgres") {
		return ""
	}
	if d := strings.TrimPrefix(*s.db, "sqlite:"); d != "" {
		return d
	}
	return *s.data
}

// jobHolder names this process in background-job leases.
func jobHolder() string {
	h, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", h, os.Getpid(), hex.EncodeToString(b[:]))
}

func migrate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	from := fs.String("from", "", "the platform to move: sqlite:DIR (stopped)")
	to := fs.String("to", "", "empty PostgreSQL database: postgres://USER@HOST:PORT/DB")
	blobs := fs.String("blobs", "", "blob store: s3://KEY:SECRET@HOST:PORT/BUCKET (or dir:DIR)")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	dir, ok := strings.CutPrefix(*from, "sqlite:")
	if !ok || dir == "" || *to == "" || *blobs == "" {
		fmt.Fprintln(stderr, "platformd migrate: --from sqlite:DIR --to postgres://… --blobs s3://… are required")
		return exitUsage
	}
	progress := func(msg string, args ...any) {
		fmt.Fprintln(stderr, append([]any{"platformd migrate:", msg}, args...)...)
	}
	st, err := city.Migrate(ctx, dir, *to, *blobs, progress)
	if err != nil {
		fmt.Fprintf(stderr, "platformd migrate: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "migrated %d kiosks, %d submissions (%d status updates, %d blob references), %d ratings, %d staff; blobs: %d copied, %d already there, %d bytes\n",
		st.Kiosks, st.Submissions, st.StatusUpdates, st.ImportStats.Blobs, st.Ratings, st.Staff, st.BlobsCopied, st.BlobsPresent, st.BlobBytes)
	return exitOK
}

func verify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	st := storageFlags(fs)
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	if !st.check("verify", stderr) {
		return exitUsage
	}
	// A blob folder is locked by its serving platform: verify a
	// single-instance platform while it is stopped. Buckets need no lock.
	p, err := city.Open(ctx, st.options(), platform.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Fprintf(stderr, "platformd verify: %v\n", err)
		return exitFailure
	}
	defer p.Close()
	r, err := city.Verify(ctx, p.Store, p.Blobs)
	if err != nil {
		fmt.Fprintf(stderr, "platformd verify: %v\n", err)
		return exitFailure
	}
	for _, sha := range r.Missing {
		fmt.Fprintf(stdout, "missing %s\n", sha)
	}
	for _, sha := range r.Damaged {
		fmt.Fprintf(stdout, "damaged %s\n", sha)
	}
	fmt.Fprintf(stdout, "verified %d blobs (%d bytes): %d missing, %d damaged\n", r.Checked, r.Bytes, len(r.Missing), len(r.Damaged))
	if len(r.Missing)+len(r.Damaged) > 0 {
		return exitFailure
	}
	return exitOK
}
