package city

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"onedoor/sync/platform"
	"onedoor/sync/platform/blobseal"
	"onedoor/sync/platform/local"
	"onedoor/sync/platform/pgstore"
	"onedoor/sync/platform/sqlitestore"
	"onedoor/sync/sqlitedb"
)

// MigrateStats says what Migrate moved.
type MigrateStats struct {
	pgstore.ImportStats
	BlobsCopied, BlobsPresent int
	BlobBytes                 int64
}

// Migrate moves a stopped SQLite platform (data directory dir: platform.db
// and blobs/) to PostgreSQL at dbURL, which must be empty, and to the blob
// store at blobsURL (s3://… or dir:…). Records go in one transaction; every
// complete blob is copied and checked against its address by the
// destination. Afterwards `platformd export` on the new storage gives the
// same lines as on the old.
func Migrate(ctx context.Context, dir, dbURL, blobsURL string, progress func(string, ...any)) (MigrateStats, error) {
	var st MigrateStats
	dbPath := filepath.Join(dir, "platform.db")
	if _, err := os.Stat(dbPath); err != nil {
		return st, fmt.Errorf("no platform database in %s: %w", dir, err)
	}
	// Opening with sqlitestore brings the schema up to date first.
	old, err := sqlitestore.Open(ctx, dir)
	if err != nil {
		return st, err
	}
	old.Close()
	_, src, err := sqlitedb.Open(dbPath, sqlitedb.Options{})
	if err != nil {
		return st, err
	}
	defer src.Close()
	if !isPostgres(dbURL) {
		return st, fmt.Errorf("--to must be a postgres:// URL")
	}
	dst, err := pgstore.Open(ctx, dbURL, pgstore.Options{MaxConns: 4})
	if err != nil {
		return st, err
	}
	defer dst.Close()
	// Blobs first: records that name a blob must never arrive before it.
	// The platform's data key (DIR/data.key) opens the folder's sealed
	// pages and seals them again at the destination, as it seals the
	// records: the city's instances run with that key (--data-key).
	// Plaintext pages of a folder from before sealing arrive sealed.
	keyOpts := Options{Data: dir}
	_, key, err := keyOpts.dataKey()
	if err != nil {
		return st, err
	}
	srcBlobs, err := local.OpenBlobs(filepath.Join(dir, "blobs"), key)
	if err != nil {
		return st, err
	}
	defer srcBlobs.Close()
	to, err := OpenStore(ctx, Options{DB: "sqlite:" + dir, Blobs: blobsURL, Data: dir})
	if err != nil {
		return st, err
	}
	defer to.Close()
	dstBlobs := to.Blobs
	if dstBlobs == nil {
		d, err := local.OpenBlobs(stripDir(blobsURL), key)
		if err != nil {
			return st, err
		}
		defer d.Close()
		dstBlobs = d
	}
	var shas []string
	if err := srcBlobs.Walk(ctx, func(sha string, _ int64) error { shas = append(shas, sha); return nil }); err != nil {
		return st, err
	}
	sort.Strings(shas)
	for i, sha := range shas {
		b, err := ReadAll(ctx, srcBlobs, sha)
		if err != nil {
			return st, fmt.Errorf("blob %s: %w", sha, err)
		}
		n, err := dstBlobs.Append(ctx, sha, 0, int64(len(b)), "", bytes.NewReader(b))
		switch {
		case err == nil:
			st.BlobsCopied++
		case errors.Is(err, platform.ErrOffsetMismatch) && n == int64(len(b)):
			st.BlobsPresent++ // already there (a re-run)
		default:
			return st, fmt.Errorf("blob %s: %w", sha, err)
		}
		st.BlobBytes += int64(len(b))
		if progress != nil && (i+1)%1000 == 0 {
			progress("blobs copied", "done", i+1, "of", len(shas))
		}
	}
	st.ImportStats, err = dst.ImportSQLite(ctx, src)
	return st, err
}

func stripDir(u string) string {
	if len(u) > 4 && u[:4] == "dir:" {
		return u[4:]
	}
	return u
}

// VerifyReport is what Verify found.
type VerifyReport struct {
	Checked int
	Bytes   int64
	// Missing blobs are named by a submission but not in the store;
	// Damaged ones are there but do not hash to their address.
	Missing, Damaged []string
}

// Verify re-hashes every blob the blob store holds (when it can list
// them) and every blob a submission names, and reports those missing or
// damaged.
func Verify(ctx context.Context, st platform.Store, blobs platform.BlobStore) (VerifyReport, error) {
	var r VerifyReport
	named := map[string]bool{}
	if err := st.Export(ctx, func(row platform.ExportRow) error {
		for _, sha := range row.Blobs {
			named[sha] = true
		}
		return nil
	}); err != nil {
		return r, err
	}
	all := map[string]bool{}
	for sha := range named {
		all[sha] = true
	}
	if w, ok := blobs.(Walker); ok {
		if err := w.Walk(ctx, func(sha string, _ int64) error { all[sha] = true; return nil }); err != nil {
			return r, err
		}
	}
	shas := make([]string, 0, len(all))
	for sha := range all {
		shas = append(shas, sha)
	}
	sort.Strings(shas)
	for _, sha := range shas {
		f, err := blobs.Open(ctx, sha)
		if errors.Is(err, platform.ErrNotFound) {
			r.Missing = append(r.Missing, sha)
			continue
		}
		if errors.Is(err, blobseal.ErrHeader) || errors.Is(err, blobseal.ErrWrongKey) {
			// The store opened with the right key (it checks its key
			// when opened), so a sealed page whose header does not open
			// is damaged.
			r.Damaged = append(r.Damaged, sha)
			continue
		}
		if err != nil {
			return r, fmt.Errorf("blob %s: %w", sha, err)
		}
		h := sha256.New()
		n, err := io.Copy(h, f)
		f.Close()
		if err != nil {
			return r, fmt.Errorf("blob %s: %w", sha, err)
		}
		r.Checked++
		r.Bytes += n
		if hex.EncodeToString(h.Sum(nil)) != sha {
			r.Damaged = append(r.Damaged, sha)
		}
	}
	return r, nil
}
