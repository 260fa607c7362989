package main

import (
	"context"
	"fmt"
	"io"
)

// runDevices dispatches `onedoor devices …`. Each device kind keeps its
// commands in its own file (cmd_devices_card.go, _printer.go, _scanner.go).
func runDevices(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "list":
		return runDevicesList(ctx, rest, stdout, stderr)
	case "probe":
		return runDevicesProbe(ctx, rest, stdout, stderr)
	case "card":
		return runDevicesCard(ctx, rest, stdout, stderr)
	case "trace":
		return runDevicesTrace(ctx, rest, stdout, stderr)
	case "print-test":
		return runDevicesPrintTest(ctx, rest, stdout, stderr)
	case "printer-status":
		return runDevicesPrinterStatus(ctx, rest, stdout, stderr)
	case "scan-test":
		return runDevicesScanTest(ctx, rest, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "onedoor devices: unknown command %q\n", cmd)
		return exitUsage
	}
}
