package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"time"

	"onedoor/sync/outbox"
	"onedoor/sync/outbox/devdata"
)

const queueUsage = `usage: onedoor queue --data DIR [--json] [--max-age D] [--min-free-mb N] [--allow-rejected]
                    [--verify [--key-file F]]

Shows the local queue: counts by state, the oldest undelivered submission,
bytes left to upload, every failed submission with its reason, and every
rating the platform refused (kept, not retried; not unhealthy). Exits 0
when healthy and 1 when unhealthy:
  - any submission was rejected by the platform (unless --allow-rejected),
  - the oldest undelivered submission is older than --max-age (default 24h),
  - the data disk has less than --min-free-mb free (default 200),
  - queued submissions cannot be decrypted (wrong data key file),
  - with --verify: the database fails integrity_check, or a blob a
    submission names is missing or fails authentication. --verify reads
    every stored scan and needs the data key (default DIR.key).
`

func runQueue(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("queue", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() { fmt.Fprint(stderr, queueUsage) }
	data := fl.String("data", "", "data directory")
	asJSON := fl.Bool("json", false, "print JSON")
	maxAge := fl.Duration("max-age", outbox.DefaultMaxAge, "oldest acceptable undelivered submission")
	minFree := fl.Int64("min-free-mb", outbox.DefaultMinFreeBytes>>20, "minimum free space on the data disk, MB")
	allowRejected := fl.Bool("allow-rejected", false, "rejected submissions alone are not unhealthy")
	verify := fl.Bool("verify", false, "check the database and authenticate every stored blob")
	keyFile := fl.String("key-file", "", "data key file for --verify (default DIR.key)")
	if err := fl.Parse(args); err != nil {
		return exitUsage
	}
	if *data == "" || fl.NArg() > 0 {
		fmt.Fprint(stderr, queueUsage)
		return exitUsage
	}
	opts := outbox.Options{Dir: *data, ReadOnly: true, Logger: slog.New(slog.NewTextHandler(stderr, nil))}
	if *verify {
		opts.KeyFile = *keyFile
		if opts.KeyFile == "" {
			opts.KeyFile = outbox.DefaultKeyFile(*data)
		}
	}
	st, err := outbox.Open(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "onedoor queue: %v\n", err)
		return exitFailure
	}
	defer st.Close()
	stats, err := st.Stats(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "onedoor queue: %v\n", err)
		return exitFailure
	}
	problems := stats.Problems(outbox.HealthRules{MaxAge: *maxAge, MinFreeBytes: *minFree << 20, AllowRejected: *allowRejected})
	var rep *outbox.VerifyReport
	if *verify {
		r, err := st.Verify(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "onedoor queue: verify: %v\n", err)
			return exitFailure
		}
		rep = &r
		if r.Integrity != "ok" {
			problems = append(problems, "database integrity check: "+r.Integrity)
		}
		if len(r.Missing) > 0 {
			problems = append(problems, fmt.Sprintf("scans missing for %v", r.Missing))
		}
		if len(r.Corrupt) > 0 {
			problems = append(problems, fmt.Sprintf("scans damaged for %v", r.Corrupt))
		}
	}
	if *asJSON {
		out := struct {
			outbox.Stats
			OldestAgeSeconds int64                `json:"oldest_age_seconds"`
			Verify           *outbox.VerifyReport `json:"verify,omitempty"`
			Healthy          bool                 `json:"healthy"`
			Problems         []string             `json:"problems"`
		}{stats, int64(stats.OldestAge / time.Second), rep, len(problems) == 0, problems}
		if out.Problems == nil {
			out.Problems = []string{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			fmt.Fprintf(stderr, "onedoor queue: %v\n", err)
			return exitFailure
		}
	} else {
		if rep != nil {
			fmt.Fprintf(stdout, "verified   %d blobs, %d bytes; database %s; %d unreferenced blobs (removed by the next purge)\n",
				rep.BlobsOK, rep.BytesRead, rep.Integrity, rep.Unreferenced)
		}
		printQueue(stdout, stats, problems)
	}
	if len(problems) > 0 {
		return exitFailure
	}
	return exitOK
}

func printQueue(w io.Writer, st outbox.Stats, problems []string) {
	for _, s := range []string{outbox.StatePending, outbox.StateSending, outbox.StateSent, outbox.StateRejected} {
		fmt.Fprintf(w, "%-10s %d\n", s, st.Counts[s])
	}
	if st.Queued > 0 {
		fmt.Fprintf(w, "oldest     %s ago (%s)\n", st.OldestAge.Round(time.Second), st.OldestQueued.Local().Format("2006-01-02 15:04:05"))
	} else {
		fmt.Fprintln(w, "oldest     -")
	}
	fmt.Fprintf(w, "bytes left %d\n", st.BytesLeft)
	if st.RatingsRejected > 0 {
		fmt.Fprintf(w, "ratings    %d queued, %d refused\n", st.RatingsQueued, st.RatingsRejected)
	} else {
		fmt.Fprintf(w, "ratings    %d queued\n", st.RatingsQueued)
	}
	fmt.Fprintf(w, "purged     %d\n", st.Purged)
	fmt.Fprintf(w, "free disk  %d MB\n", st.FreeDiskBytes>>20)
	if !st.LastSentAt.IsZero() {
		fmt.Fprintf(w, "last sent  %s\n", st.LastSentAt.Local().Format("2006-01-02 15:04:05"))
	}
	if len(st.Failed) > 0 {
		fmt.Fprintln(w, "failed:")
		for _, f := range st.Failed {
			next := ""
			if !f.NextAttemptAt.IsZero() {
				next = " next " + f.NextAttemptAt.Local().Format("01-02 15:04:05")
			}
			fmt.Fprintf(w, "  %s  %-8s attempts %d%s  %s\n", f.Receipt, f.State, f.Attempts, next, f.Reason)
		}
	}
	if len(st.FailedRatings) > 0 {
		// Listed, not counted as unhealthy: a refused rating cannot be
		// fixed or sent again, and no application depends on it.
		fmt.Fprintln(w, "failed ratings:")
		for _, f := range st.FailedRatings {
			receipt := f.Receipt
			if receipt == "" {
				receipt = "-"
			}
			fmt.Fprintf(w, "  %s  rating %s  refused %s  %s\n", receipt, f.UUID, f.RejectedAt.Local().Format("01-02 15:04:05"), f.Reason)
		}
	}
	if len(problems) == 0 {
		fmt.Fprintln(w, "health     ok")
		return
	}
	fmt.Fprintln(w, "health     UNHEALTHY")
	for _, p := range problems {
		fmt.Fprintf(w, "  - %s\n", p)
	}
}

const devUsage = `usage: onedoor dev enqueue --data DIR --count N --attach-bytes B [--pages P] [--kiosk ID] [--key-file F] [--seed S]

Stores N fictional submissions (invented names, ID numbers with region code
999999), each with B bytes of random scan data split over P pages (default 1;
B = 0 gives no scans). Prints each receipt number on its own line as soon as
that submission is durable. The key file defaults to DIR.key beside the data
directory and is created if missing.
`

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "enqueue" {
		fmt.Fprint(stderr, devUsage)
		return exitUsage
	}
	fl := flag.NewFlagSet("dev enqueue", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() { fmt.Fprint(stderr, devUsage) }
	data := fl.String("data", "", "data directory")
	count := fl.Int("count", 1, "number of submissions")
	attach := fl.Int("attach-bytes", 0, "scan bytes per submission")
	pages := fl.Int("pages", 1, "pages per submission")
	kiosk := fl.String("kiosk", "DEV01", "kiosk ID (receipt prefix)")
	keyFile := fl.String("key-file", "", "data key file (default DIR.key)")
	seed := fl.Uint64("seed", 0, "random seed (default: random)")
	if err := fl.Parse(args[1:]); err != nil {
		return exitUsage
	}
	if *data == "" || *count < 0 || *attach < 0 || *pages < 1 || *attach > 64<<20 || fl.NArg() > 0 {
		fmt.Fprint(stderr, devUsage)
		return exitUsage
	}
	if *keyFile == "" {
		*keyFile = outbox.DefaultKeyFile(*data)
	}
	if *seed == 0 {
		var b [8]byte
		rand.Read(b[:])
		*seed = binary.LittleEndian.Uint64(b[:])
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := outbox.Open(ctx, outbox.Options{Dir: *data, KeyFile: *keyFile, KioskID: *kiosk, Logger: logger})
	if err != nil {
		fmt.Fprintf(stderr, "onedoor dev enqueue: %v\n", err)
		return exitFailure
	}
	defer st.Close()
	rng := mrand.New(mrand.NewPCG(*seed, 0x0ed0))
	for i := 0; i < *count; i++ {
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "onedoor dev enqueue: interrupted after %d\n", i)
			return exitFailure
		}
		rc, err := st.Submit(ctx, devdata.Submission(rng, rng.IntN(1_000_000), *attach, *pages))
		if err != nil {
			fmt.Fprintf(stderr, "onedoor dev enqueue: submission %d: %v\n", i+1, err)
			if errors.Is(err, outbox.ErrDiskFull) {
				fmt.Fprintln(stderr, "onedoor dev enqueue: the disk is full; nothing of that submission was stored")
			}
			return exitFailure
		}
		fmt.Fprintln(stdout, rc.Number)
	}
	return exitOK
}
