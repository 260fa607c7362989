package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "etc", "config.toml")
	type step struct {
		args      []string
		code      int
		out, errs string // substrings expected
	}
	steps := []step{
		{[]string{"config", "--config", path, "validate"}, exitFailure, "", "no such file"},
		{[]string{"config", "--config", path, "get", "session.idle_timeout"}, exitOK, "1m0s", "showing the defaults"},
		{[]string{"config", "--config", path, "set", "session.idle_timeout", "90s"}, exitOK, "session.idle_timeout = 90s", ""},
		{[]string{"config", "--config", path, "get", "session.idle_timeout"}, exitOK, "1m30s", ""},
		{[]string{"config", "--config", path, "set", "session.idle_timeout", "5s"}, exitFailure, "", "session.idle_timeout"},
		{[]string{"config", "--config", path, "set", "session.idel_timeout", "90s"}, exitUsage, "", "unknown key"},
		{[]string{"config", "--config", path, "set", "platform.token", "s3cret-token"}, exitOK, "platform.token = (set)", ""},
		{[]string{"config", "--config", path, "get"}, exitOK, `platform.token = "(set)"`, ""},
		{[]string{"config", "--config", path, "validate"}, exitOK, "valid", ""},
		{[]string{"config", "keys"}, exitOK, "devices.printer.profile", ""},
		{[]string{"config", "--config", path, "frobnicate"}, exitUsage, "", "unknown command"},
		{[]string{"config", "--config", path, "set", "kiosk.id"}, exitUsage, "", "usage"},
		{[]string{"config"}, exitUsage, "", "usage"},
	}
	for _, s := range steps {
		var out, errb bytes.Buffer
		code := run(context.Background(), s.args, &out, &errb)
		if code != s.code || !strings.Contains(out.String(), s.out) || !strings.Contains(errb.String(), s.errs) {
			t.Errorf("%v: exit %d, out %q, err %q; want exit %d with %q / %q", s.args[1:], code, out.String(), errb.String(), s.code, s.out, s.errs)
		}
		if strings.Contains(out.String()+errb.String(), "s3cret-token") {
			t.Errorf("%v printed the platform token", s.args[1:])
		}
	}
	// A rejected set left the file as it was.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `idle_timeout = "1m30s"`) {
		t.Errorf("file after a rejected set:\n%s", data)
	}
	// A hand-edited file with a typo is reported by validate.
	typo := strings.Replace(string(data), "level = ", "levle = ", 1)
	if err := os.WriteFile(path, []byte(typo), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"config", "--config", path, "validate"}, &out, &errb); code != exitFailure || !strings.Contains(errb.String(), "log.levle") {
		t.Errorf("validate of a typo: exit %d, %q", code, errb.String())
	}
}
