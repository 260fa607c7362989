package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"onedoor/sync/engine"
)

const syncUsage = `usage: onedoor sync run|now --data DIR --platform URL --kiosk ID --token-file F [--key-file F] [--bandwidth BYTES_PER_SEC] [-v]

  run   runs the sync engine without a screen until interrupted (SIGINT/SIGTERM):
        sends queued submissions, pulls statuses and catalog updates, heartbeats.
  now   makes every queued submission that waits out a backoff due at once
        (rejected ones stay rejected), sends, pulls once and exits: 0 when
        the queue is empty afterwards, 1 when anything failed or is still queued.
`

func runSync(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "run" && args[0] != "now") {
		fmt.Fprint(stderr, syncUsage)
		return exitUsage
	}
	mode := args[0]
	fl := flag.NewFlagSet("sync "+mode, flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() { fmt.Fprint(stderr, syncUsage) }
	var o engine.HeadlessOptions
	fl.StringVar(&o.DataDir, "data", "", "data directory")
	fl.StringVar(&o.PlatformURL, "platform", "", "platform base URL, e.g. https://platform.example:8443")
	fl.StringVar(&o.KioskID, "kiosk", "", "kiosk id as registered on the platform")
	fl.StringVar(&o.TokenFile, "token-file", "", "file holding the kiosk token (mode 0600)")
	fl.StringVar(&o.KeyFile, "key-file", "", "data key file (default DIR.key)")
	fl.Int64Var(&o.BandwidthBytesPerSec, "bandwidth", 0, "uplink cap in bytes per second (0: none)")
	verbose := fl.Bool("v", false, "debug logging")
	if err := fl.Parse(args[1:]); err != nil {
		return exitUsage
	}
	if o.DataDir == "" || o.PlatformURL == "" || o.KioskID == "" || o.TokenFile == "" || fl.NArg() > 0 {
		fmt.Fprint(stderr, syncUsage)
		return exitUsage
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	o.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	o.Version = "onedoor"
	h, err := engine.OpenHeadless(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "onedoor sync: %v\n", err)
		return exitFailure
	}
	defer h.Close()

	if mode == "run" {
		h.Engine.Run(ctx)
		p := h.Engine.Progress()
		fmt.Fprintf(stdout, "stopped: sent %d, rejected %d, retried %d, %d still queued\n", p.Sent, p.Rejected, p.Retried, p.ItemsLeft)
		return exitOK
	}
	// A technician runs "sync now" after fixing something (the link, the
	// token): what waits out a backoff is tried now, not at its next slot.
	due, err := h.Store.DueNow(ctx, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "onedoor sync now: %v\n", err)
		return exitFailure
	}
	if len(due) > 0 {
		fmt.Fprintf(stdout, "made %d waiting submission(s) due now: %s\n", len(due), receiptList(due, 10))
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	res := h.Engine.Drain(dctx)
	fmt.Fprintf(stdout, "sent %d, rejected %d, retried %d, %d still queued\n", res.Sent, res.Rejected, res.Retried, res.Left)
	if res.Err != nil {
		fmt.Fprintf(stderr, "onedoor sync now: stopped early: %v\n", res.Err)
	}
	if res.Err != nil || res.Rejected > 0 || res.Retried > 0 || res.Left > 0 {
		return exitFailure
	}
	return exitOK
}

// receiptList joins up to max receipt numbers, saying how many more there
// are, so a long backlog does not flood the terminal.
func receiptList(receipts []string, max int) string {
	if len(receipts) <= max {
		return strings.Join(receipts, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(receipts[:max], ", "), len(receipts)-max)
}
