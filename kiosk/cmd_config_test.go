package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"onedoor/kiosk/config"
	"onedoor/kiosk/techpin"
)

func TestConfigCommands(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	steps := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"get on a missing file shows defaults", []string{"get", "devices.printer.baud"}, exitOK, "9600\n", "does not exist"},
		{"validate a missing file", []string{"validate"}, exitFailure, "", "no such file"},
		{"set creates the file", []string{"set", "devices.printer.port", "/dev/onedoor/printer", "platform.token", "s3cret-token"}, exitOK, "devices.printer.port = /dev/onedoor/printer", ""},
		{"validate", []string{"validate"}, exitOK, "valid", ""},
		{"get one", []string{"get", "devices.printer.port"}, exitOK, "/dev/onedoor/printer\n", ""},
		{"get masks the token", []string{"get"}, exitOK, "platform.token = (set; --reveal shows it)", ""},
		{"reveal", []string{"get", "--reveal", "platform.token"}, exitOK, "s3cret-token\n", ""},
		{"bad value keeps the file", []string{"set", "devices.printer.port", "/dev/ttyUSB1", "devices.printer.baud", "9601"}, exitFailure, "", "nothing saved"},
		{"unchanged after a bad set", []string{"get", "devices.printer.port"}, exitOK, "/dev/onedoor/printer\n", ""},
		{"unknown key", []string{"set", "printer.port", "/dev/x"}, exitUsage, "", "unknown key"},
		{"get unknown key", []string{"get", "kiosk.nope"}, exitUsage, "", "unknown key"},
		{"odd arguments", []string{"set", "kiosk.id"}, exitUsage, "", "usage"},
		{"unknown subcommand", []string{"frob"}, exitUsage, "", "unknown subcommand"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append([]string{"config", s.args[0], "--config", path}, s.args[1:]...)
			if code := run(context.Background(), args, &out, &errb); code != s.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, s.code, errb.String())
			}
			if !strings.Contains(out.String(), s.stdout) || !strings.Contains(errb.String(), s.stderr) {
				t.Fatalf("stdout %q (want %q), stderr %q (want %q)", out.String(), s.stdout, errb.String(), s.stderr)
			}
			if strings.Contains(out.String()+errb.String(), "s3cret") && !strings.Contains(s.name, "reveal") {
				t.Fatal("token shown without --reveal")
			}
		})
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config file mode %v (%v)", fi.Mode(), err)
	}
	// A hand-broken file: validate names the key, set refuses to touch it.
	os.WriteFile(path, []byte("[kiosk]\nid = \"bad id\"\n"), 0o600)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"config", "validate", "--config", path}, &out, &errb); code != exitFailure || !strings.Contains(errb.String(), "kiosk.id") {
		t.Fatalf("validate broken: %d %s", code, errb.String())
	}
	if code := run(context.Background(), []string{"config", "set", "--config", path, "kiosk.name", "x"}, &out, &errb); code != exitFailure {
		t.Fatalf("set on a broken file: %d", code)
	}
	if b, _ := os.ReadFile(path); string(b) != "[kiosk]\nid = \"bad id\"\n" {
		t.Fatalf("broken file rewritten: %q", b)
	}
}

// withStdin feeds text to os.Stdin for one call (set-pin reads the PIN
// from standard input so it never shows in the process list or history).
func withStdin(t *testing.T, text string, f func()) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() { w.WriteString(text); w.Close() }()
	old := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = old; r.Close() }()
	f()
}

func TestConfigSetPIN(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	tests := []struct {
		input string
		code  int
		msg   string
	}{
		{"123456\n654321\n", exitFailure, "differ"},
		{"12ab\n12ab\n", exitFailure, "6 to 12 digits"},
		{"24681357\n24681357\n", exitOK, "PIN set"},
	}
	for _, tc := range tests {
		var out, errb bytes.Buffer
		withStdin(t, tc.input, func() {
			if code := run(context.Background(), []string{"config", "set-pin", "--config", path}, &out, &errb); code != tc.code {
				t.Fatalf("%q: exit %d: %s", tc.input, code, errb.String())
			}
		})
		if !strings.Contains(out.String()+errb.String(), tc.msg) {
			t.Fatalf("%q: output %q lacks %q", tc.input, out.String()+errb.String(), tc.msg)
		}
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := techpin.Matches(cfg.Technician.PINHash, "24681357"); !ok || err != nil {
		t.Fatalf("saved hash does not match the PIN (%v)", err)
	}
	if b, _ := os.ReadFile(path); strings.Contains(string(b), "24681357") {
		t.Fatal("PIN in the config file")
	}
}

func TestConfigPathFromEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiosk.toml")
	c := config.Default()
	c.Kiosk.ID = "ENV42"
	if err := config.Save(path, c); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ONEDOOR_CONFIG", path)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"config", "get", "kiosk.id"}, &out, &errb); code != exitOK || out.String() != "ENV42\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
}
