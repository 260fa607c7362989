package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
	if len(Keys()) < 20 {
		t.Errorf("only %d keys", len(Keys()))
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		wantErr error
		check   func(t *testing.T, c Config)
	}{
		{"empty file gives defaults", "", nil, func(t *testing.T, c Config) {
			if !reflect.DeepEqual(c, Default()) {
				t.Errorf("got %+v", c)
			}
		}},
		{"partial file keeps other defaults", "[session]\nidle_timeout = \"90s\"\n[devices.printer]\nport = \"/dev/ttyUSB1\"\n", nil, func(t *testing.T, c Config) {
			if c.Session.IdleTimeout != 90*time.Second || c.Devices.Printer.Port != "/dev/ttyUSB1" {
				t.Errorf("values not read: %+v", c.Session)
			}
			if c.Session.ElderIdleTimeout != 120*time.Second || c.Devices.Printer.Profile != "generic-80" {
				t.Error("defaults lost")
			}
		}},
		{"unknown key", "[session]\nidle_timout = \"90s\"\n", ErrUnknownKey, func(t *testing.T, c Config) {}},
		{"unknown section", "[screen]\nsize = 1\n", ErrUnknownKey, nil},
		{"bad duration", "[session]\nidle_timeout = \"soon\"\n", ErrInvalid, nil},
		{"wrong type", "[devices.printer]\nbaud = \"fast\"\n", ErrInvalid, nil},
		{"broken toml", "[kiosk\nid = 1", ErrInvalid, nil},
		{"valid but out of range", "[session]\nidle_timeout = \"5s\"\n", ErrInvalid, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.src))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Config)
		key    string
	}{
		{"kiosk id with a space", func(c *Config) { c.Kiosk.ID = "K 1" }, "kiosk.id"},
		{"kiosk id with a slash", func(c *Config) { c.Kiosk.ID = "DG/0001" }, "kiosk.id"},
		{"kiosk id longer than the platform's 64", func(c *Config) { c.Kiosk.ID = strings.Repeat("K", 65) }, "kiosk.id"},
		{"window size not supported", func(c *Config) { c.Kiosk.WindowSize = "800x600" }, "kiosk.window_size"},
		{"time zone unknown", func(c *Config) { c.Kiosk.TimeZone = "Mars/Olympus" }, "kiosk.time_zone"},
		{"region", func(c *Config) { c.Kiosk.Region = "4419" }, "kiosk.region"},
		{"language", func(c *Config) { c.Kiosk.Language = "fr" }, "kiosk.language"},
		{"relative port", func(c *Config) { c.Devices.IDCard.Port = "ttyUSB0" }, "devices.idcard.port"},
		{"odd baud", func(c *Config) { c.Devices.Scanner.Baud = 12345 }, "devices.scanner.baud"},
		{"baud above the scanner's fastest", func(c *Config) { c.Devices.Scanner.Baud = 1843200 }, "devices.scanner.baud"},
		{"printer profile", func(c *Config) { c.Devices.Printer.Profile = "brand-x" }, "devices.printer.profile"},
		{"platform url scheme", func(c *Config) { c.Platform.URL = "ftp://x" }, "platform.url"},
		{"platform url host", func(c *Config) { c.Platform.URL = "http://" }, "platform.url"},
		{"timeout", func(c *Config) { c.Platform.Timeout = 0 }, "platform.timeout"},
		{"elder shorter than normal", func(c *Config) { c.Session.ElderIdleTimeout = 30 * time.Second }, "session.elder_idle_timeout"},
		{"warning longer than half", func(c *Config) { c.Session.Warning = 40 * time.Second }, "session.warning"},
		{"threshold zero", func(c *Config) { c.Session.BlankThreshold = 0 }, "session.blank_threshold"},
		{"threshold above one", func(c *Config) { c.Session.BlurThreshold = 1.5 }, "session.blur_threshold"},
		{"relative data dir", func(c *Config) { c.Storage.DataDir = "data" }, "storage.data_dir"},
		{"key inside data dir", func(c *Config) { c.Storage.KeyFile = filepath.Join(c.Storage.DataDir, "k") }, "storage.key_file"},
		{"retention zero", func(c *Config) { c.Storage.RetentionDays = 0 }, "storage.retention_days"},
		{"retention too long", func(c *Config) { c.Storage.RetentionDays = 400 }, "storage.retention_days"},
		{"log level", func(c *Config) { c.Log.Level = "loud" }, "log.level"},
		{"pin hash", func(c *Config) { c.Technician.PINHash = "1234" }, "technician.pin_hash"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.mutate(&c)
			err := c.Validate()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.key+":") {
				t.Errorf("Validate = %v, want ErrInvalid naming %s", err, tc.key)
			}
		})
	}
	c := Default()
	c.Technician.PINHash = "$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHRzYWx0c2FsdA$" + strings.Repeat("a", 43)
	c.Platform.URL = "https://platform.example/api"
	c.Devices.Scanner.Baud = 921600 // the scanner prober's fast rate
	if err := c.Validate(); err != nil {
		t.Errorf("valid settings rejected: %v", err)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "config.toml")
	c := Default()
	c.Kiosk.ID = "DG0101"
	c.Session.IdleTimeout = 75 * time.Second
	c.Devices.Printer.Port = "/dev/ttyS3"
	c.Platform.URL = "http://127.0.0.1:8080"
	c.Platform.Token = "kiosk-token-for-tests"
	c.Devices.Printer.Profile = "generic-58"
	if err := Save(path, c); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("round trip changed the config:\n got %+v\nwant %+v", got, c)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("new file mode %v, want 0600", fi.Mode().Perm())
	}
	// An existing file keeps its permissions.
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	c.Kiosk.Name = "示例村便民服务站"
	if err := Save(path, c); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode changed to %v", fi.Mode().Perm())
	}
	if got, _ := Load(path); got.Kiosk.Name != "示例村便民服务站" {
		t.Errorf("name %q", got.Kiosk.Name)
	}
	assertNoTempFiles(t, filepath.Dir(path))
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temp file %s left behind", e.Name())
		}
	}
}

func TestSaveRefusesInvalidAndKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	good := Default()
	if err := Save(path, good); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	bad := good
	bad.Kiosk.ID = "bad id"
	if err := Save(path, bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Save(invalid) = %v", err)
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Error("an invalid save changed the file")
	}
	assertNoTempFiles(t, dir)
}

func TestSaveFailureLeavesNoTempFile(t *testing.T) {
	dir := t.TempDir()
	// The target is a non-empty directory, so the final rename fails after
	// the temp file was written.
	path := filepath.Join(dir, "config.toml")
	if err := os.MkdirAll(filepath.Join(path, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Save(path, Default()); err == nil {
		t.Fatal("Save over a directory succeeded")
	}
	assertNoTempFiles(t, dir)
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.toml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
}

func TestGetSet(t *testing.T) {
	tests := []struct {
		key, value string
		wantErr    error
		wantGet    string
	}{
		{"session.idle_timeout", "90s", nil, "1m30s"},
		{"session.idle_timeout", "2m", nil, "2m0s"},
		{"session.idle_timeout", "5s", ErrInvalid, ""},
		{"session.idle_timeout", "later", ErrInvalid, ""},
		{"devices.printer.baud", "115200", nil, "115200"},
		{"devices.printer.baud", "fast", ErrInvalid, ""},
		{"devices.printer.enabled", "false", nil, "false"},
		{"devices.printer.enabled", "maybe", ErrInvalid, ""},
		{"session.blur_threshold", "0.5", nil, "0.5"},
		{"kiosk.id", "DG02", nil, "DG02"},
		{"kiosk.id", "dg02", nil, "dg02"},
		{"kiosk.id", "DG-0001", nil, "DG-0001"},
		{"kiosk.id", "dg/02", ErrInvalid, ""},
		{"kiosk.window_size", "1920x1080", nil, "1920x1080"},
		{"kiosk.window_size", "1024x768", ErrInvalid, ""},
		{"kiosk.colour", "red", ErrUnknownKey, ""},
		{"kiosk", "x", ErrUnknownKey, ""},
		{"session.idle_timeout.x", "1", ErrUnknownKey, ""},
	}
	for _, tc := range tests {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			c := Default()
			err := c.Set(tc.key, tc.value)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Set = %v, want %v", err, tc.wantErr)
				}
				if !reflect.DeepEqual(c, Default()) {
					t.Error("a failed Set changed the config")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Get(tc.key)
			if err != nil || got != tc.wantGet {
				t.Errorf("Get = %q, %v, want %q", got, err, tc.wantGet)
			}
		})
	}
	// Every listed key can be read and written back unchanged.
	c := Default()
	for _, k := range Keys() {
		v, err := c.Get(k)
		if err != nil {
			t.Errorf("Get(%s): %v", k, err)
			continue
		}
		if err := c.Set(k, v); err != nil {
			t.Errorf("Set(%s, %q): %v", k, v, err)
		}
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Error("Get/Set round trip changed the config")
	}
}
