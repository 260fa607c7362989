package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"onedoor/drivers/sim"
	"onedoor/internal/simtest"
)

func simPrinter(t *testing.T, profile string) (*sim.Printer, string) {
	t.Helper()
	sp, pt, _ := simtest.Printer(t, "", simtest.Profile(t, profile))
	return sp, pt.SlavePath
}

func TestDevicesPrinterCommands(t *testing.T) {
	sp, port := simPrinter(t, "generic-58")
	tests := []struct {
		name  string
		setup string
		args  []string
		code  int
		out   string
	}{
		{"usage", "", []string{"--baud", "9600"}, exitUsage, ""},
		{"unknown profile", "", []string{"--port", port, "--profile", "nope"}, exitUsage, ""},
		{"status ready", "", []string{"printer-status", "--port", port, "--baud", "115200"}, exitOK, "online"},
		{"status json", "", []string{"printer-status", "--port", port, "--json"}, exitOK, `"ready": true`},
		{"print", "", []string{"print-test", "--port", port, "--profile", "generic-58", "--baud", "115200"}, exitOK, "printed sample receipt"},
		{"cover open", "cover open", []string{"print-test", "--port", port, "--profile", "generic-58"}, exitDevice, ""},
		{"status cover", "cover open", []string{"printer-status", "--port", port}, exitDevice, "cover-open"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != "" {
				if _, err := sp.Command(strings.Fields(tc.setup)); err != nil {
					t.Fatal(err)
				}
			}
			var out, errb bytes.Buffer
			args := tc.args
			run := runDevicesPrintTest
			if len(args) > 0 && (args[0] == "printer-status" || args[0] == "print-test") {
				if args[0] == "printer-status" {
					run = runDevicesPrinterStatus
				}
				args = args[1:]
			}
			if code := run(context.Background(), args, &out, &errb); code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tc.code, errb.String())
			}
			if !strings.Contains(out.String(), tc.out) {
				t.Fatalf("stdout %q lacks %q", out.String(), tc.out)
			}
			if strings.Contains(tc.out, "ready") && !json.Valid(out.Bytes()) {
				t.Fatalf("not JSON: %s", out.String())
			}
		})
	}
	if pages := sp.Pages(); len(pages) != 1 || !strings.Contains(pages[0].Text, "4419**********123X") {
		t.Fatalf("want the one sample receipt printed, got %d pages", len(pages))
	}
}
