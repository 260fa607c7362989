// Command onedoor is the OneDoor (一门通) self-service kiosk. Without a
// subcommand it runs the touchscreen app; the subcommands let a technician
// find and exercise hardware, inspect the queue and run the sync engine from a
// terminal:
//
//	onedoor [--demo] [--config FILE]          the kiosk app
//	onedoor devices list|probe|card|trace|print-test|printer-status|scan-test
//	onedoor queue                              what is waiting to be sent
//	onedoor sync run|now                       the sync engine without a screen
//	onedoor dev enqueue                        fictional submissions for tests
//
// Exit codes are part of the interface, so scripts can rely on them.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Exit codes shared by every subcommand.
const (
	exitOK      = 0
	exitFailure = 1 // something is wrong (unhealthy queue, failed sync, …)
	exitUsage   = 2 // bad command line
	exitDevice  = 3 // the device answered with an error or not as expected
	exitTimeout = 4 // nothing happened before the deadline
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches to a subcommand and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return runApp(ctx, args, stdout, stderr)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "devices":
		return runDevices(ctx, rest, stdout, stderr)
	case "queue":
		return runQueue(ctx, rest, stdout, stderr)
	case "sync":
		return runSync(ctx, rest, stdout, stderr)
	case "dev":
		return runDev(ctx, rest, stdout, stderr)
	case "config":
		return runConfig(ctx, rest, stdout, stderr)
	case "doctor":
		return runDoctor(ctx, rest, stdout, stderr)
	case "help":
		usage(stdout)
		return exitOK
	default:
		fmt.Fprintf(stderr, "onedoor: unknown command %q\n", cmd)
		usage(stderr)
		return exitUsage
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  onedoor [--demo] [--config FILE]     run the kiosk app
  onedoor devices list                 candidate serial ports
  onedoor devices probe [PORT...]      which device answers on which port and baud
  onedoor devices card --port P        wait for an ID card and print it (masked)
  onedoor devices trace --port P       live hex trace of a port
  onedoor devices print-test --port P  print a sample receipt
  onedoor devices printer-status --port P
  onedoor devices scan-test --port P --out FILE
  onedoor queue --data DIR [--json]    what is waiting to be sent
  onedoor sync run|now ...             the sync engine without a screen
  onedoor dev enqueue ...              fictional submissions for tests
  onedoor config get|set|validate ...  read and change settings
  onedoor config set-pin [--config FILE]
                                       technician PIN, typed twice on stdin, stored hashed
  onedoor doctor [--json] [--skip-devices]
                                       one health report; non-zero exit when unhealthy
  onedoor doctor --serve ADDR [--interval D]
                                       keep checking; Prometheus metrics on a loopback address
`)
}
