// Package config is the kiosk's TOML configuration: defaults for every
// setting, validation that names each bad key and says what is allowed, and
// an atomic save so that a power cut while a technician changes a setting
// never leaves a half-written file.
//
// Use:
//
//	cfg, err := config.Load(path)         // defaults + file; unknown keys rejected
//	if errors.Is(err, fs.ErrNotExist) { cfg = config.Default() }
//	v, _ := cfg.Get("session.idle_timeout")   // "1m0s"
//	err = cfg.Set("devices.printer.port", "/dev/ttyUSB1") // parsed and validated
//	err = config.Save(path, cfg)          // temp file, fsync, rename, fsync dir
//
// Keys are the dotted TOML paths ("devices.printer.baud"); Keys lists them.
// Durations are written as Go duration strings ("60s", "1m30s").
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"onedoor/assets"
	"onedoor/internal/atomicfile"

	"github.com/BurntSushi/toml"
)

// Sentinel errors callers act on.
var (
	// ErrInvalid: the configuration parses but a value is not allowed.
	ErrInvalid = errors.New("config: invalid")
	// ErrUnknownKey: a key in the file or in Get/Set does not exist;
	// usually a typo.
	ErrUnknownKey = errors.New("config: unknown key")
)

// Config is the whole kiosk configuration.
type Config struct {
	Kiosk      Kiosk      `toml:"kiosk"`
	Devices    Devices    `toml:"devices"`
	Platform   Platform   `toml:"platform"`
	Session    Session    `toml:"session"`
	Storage    Storage    `toml:"storage"`
	Log        Log        `toml:"log"`
	Technician Technician `toml:"technician"`
	Voice      Voice      `toml:"voice"`
}

// Kiosk identifies the terminal.
type Kiosk struct {
	// ID goes into every receipt number ({id}-{yyyymmdd}-{seq}), so it must
	// be unique per kiosk. It is the id the platform issued at enrolment
	// (`platformd kiosk add --id DG-0001`), so it follows the platform's
	// rule: 1–64 letters, digits, '-', '_' or '.'.
	ID string `toml:"id"`
	// Name is the service point's name, printed on receipts.
	Name       string `toml:"name"`
	Region     string `toml:"region"`   // 6-digit division code
	Language   string `toml:"language"` // default language: zh-CN | en
	Fullscreen bool   `toml:"fullscreen"`
	// WindowSize is the kiosk window's fixed size in pixels, one of
	// WindowSizes (the screens are laid out and tested at these); the
	// screen's own size when Fullscreen.
	WindowSize string `toml:"window_size"`
	// TimeZone is the zone of every time a resident or clerk sees (IANA
	// name); China Standard Time by default, whatever the machine's zone.
	TimeZone string `toml:"time_zone"`
}

// Location is TimeZone as a *time.Location. Asia/Shanghai (the default)
// is UTC+8 without daylight saving, which needs no zone database.
func (k Kiosk) Location() (*time.Location, error) {
	switch k.TimeZone {
	case "", "Asia/Shanghai", "CST":
		return time.FixedZone("CST", 8*3600), nil
	}
	loc, err := time.LoadLocation(k.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", k.TimeZone, err)
	}
	return loc, nil
}

// WindowSizes are the window sizes the kiosk supports, the default first.
var WindowSizes = []string{"1280x800", "1366x768", "1920x1080"}

// Window is WindowSize in pixels; the default size when it is not one of
// WindowSizes (Validate refuses that).
func (k Kiosk) Window() (width, height int) {
	s := k.WindowSize
	if !slices.Contains(WindowSizes, s) {
		s = WindowSizes[0]
	}
	if _, err := fmt.Sscanf(s, "%dx%d", &width, &height); err != nil {
		return 1280, 800
	}
	return width, height
}

// Devices are the serial devices; an empty port means "find it by probing".
type Devices struct {
	IDCard  Device  `toml:"idcard"`
	Printer Printer `toml:"printer"`
	Scanner Device  `toml:"scanner"`
}

// Device is one serial device.
type Device struct {
	Enabled bool   `toml:"enabled"`
	Port    string `toml:"port"`
	Baud    int    `toml:"baud"` // 0 means probe
}

// Printer is the receipt printer.
type Printer struct {
	Enabled bool   `toml:"enabled"`
	Port    string `toml:"port"`
	Baud    int    `toml:"baud"`
	// Profile names the printer model's ESC/POS profile (assets/printers),
	// which fixes paper width, code pages and QR support.
	Profile string `toml:"profile"`
}

// Platform is the central platform the sync engine talks to.
type Platform struct {
	// URL is the platform's base URL; empty runs the kiosk offline-only
	// (everything queues).
	URL string `toml:"url"`
	// Name is who runs the platform, as the personal-information notice
	// names the recipient of the data (e.g. 东莞市政务服务数据管理局).
	// Empty names the platform generically.
	Name string `toml:"name"`
	// Token authenticates the kiosk to the platform. The config file is
	// written 0600 because of it.
	Token        string        `toml:"token"`
	Timeout      time.Duration `toml:"timeout"`
	SyncInterval time.Duration `toml:"sync_interval"`
	CAFile       string        `toml:"ca_file"`
}

// Session tunes the resident session (kiosk/flow Options).
type Session struct {
	IdleTimeout      time.Duration `toml:"idle_timeout"`
	ElderIdleTimeout time.Duration `toml:"elder_idle_timeout"`
	Warning          time.Duration `toml:"warning"`
	BlankThreshold   float64       `toml:"blank_threshold"`
	BlurThreshold    float64       `toml:"blur_threshold"`
	// LookupURL is the prefix of the receipt QR code; the receipt number is
	// appended. Empty puts the bare number in the QR code.
	LookupURL string `toml:"lookup_url"`
	// ElderDefault starts every session in elder mode (large type), for
	// service points whose visitors are mostly elderly.
	ElderDefault bool `toml:"elder_default"`
}

// Storage is where data lives.
type Storage struct {
	DataDir string `toml:"data_dir"`
	// KeyFile holds the data-encryption key; it must be outside DataDir so a
	// copied data directory is useless without it.
	KeyFile string `toml:"key_file"`
	// RetentionDays is how long personal data and scans stay on the kiosk
	// after the platform acknowledged them (outbox retention purge).
	RetentionDays int `toml:"retention_days"`
}

// Log configures logging.
type Log struct {
	Level string `toml:"level"` // debug | info | warn | error
}

// Technician protects the technician screens.
type Technician struct {
	// PINHash is the argon2id hash (PHC string, made by kiosk/techpin) of
	// the technician PIN; empty disables the
	// technician screens on the touchscreen.
	PINHash string `toml:"pin_hash"`
}

// Default returns the configuration used when a key is not in the file.
func Default() Config {
	data, key := "/var/lib/onedoor", "/etc/onedoor/data.key"
	if home, err := os.UserHomeDir(); err == nil && home != "/" && home != "" {
		data = filepath.Join(home, ".local", "share", "onedoor")
		key = filepath.Join(home, ".config", "onedoor", "data.key")
	}
	return Config{
		Kiosk: Kiosk{ID: "K01", Name: "一门通自助服务点", Region: "441900", Language: "zh-CN", Fullscreen: true, WindowSize: WindowSizes[0], TimeZone: "Asia/Shanghai"},
		Devices: Devices{
			IDCard:  Device{Enabled: true, Baud: 115200},
			Printer: Printer{Enabled: true, Baud: 9600, Profile: "generic-80"},
			Scanner: Device{Enabled: true, Baud: 115200},
		},
		Platform: Platform{Timeout: 30 * time.Second, SyncInterval: time.Minute},
		Session: Session{
			IdleTimeout:      60 * time.Second,
			ElderIdleTimeout: 120 * time.Second,
			Warning:          15 * time.Second,
			BlankThreshold:   0.97,
			BlurThreshold:    0.6,
		},
		Storage: Storage{DataDir: data, KeyFile: key, RetentionDays: 7},
		Log:     Log{Level: "info"},
		Voice:   defaultVoice(),
	}
}

// DefaultPath is where the kiosk looks for its configuration when no
// --config flag is given.
func DefaultPath() string {
	if dir, err := os.UserConfigDir(); err == nil {
		return filepath.Join(dir, "onedoor", "config.toml")
	}
	return "/etc/onedoor/config.toml"
}

// Load reads a configuration file over the defaults and validates it. A
// missing file gives an error wrapping fs.ErrNotExist.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse decodes TOML over the defaults and validates the result. Keys the
// kiosk does not know are an error, so a misspelt setting is not silently
// ignored.
func Parse(data []byte) (Config, error) {
	c := Default()
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&c)
	if err != nil {
		return Config{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return Config{}, fmt.Errorf("%w: %s", ErrUnknownKey, strings.Join(keys, ", "))
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Marshal encodes the configuration as TOML.
func Marshal(c Config) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("# OneDoor kiosk configuration. Edit with `onedoor config set KEY VALUE`\n# or by hand; `onedoor config validate` checks it.\n\n")
	if err := toml.NewEncoder(&buf).Encode(c); err != nil {
		return nil, fmt.Errorf("config: encoding: %w", err)
	}
	return buf.Bytes(), nil
}

// Save validates c and writes it to path atomically (atomicfile.Write), so
// a power cut leaves the old settings or the new ones. An existing file keeps
// its permissions; a new one is 0600, since the file holds the platform token and the PIN hash.
func Save(path string, c Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	data, err := Marshal(c)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	mode := fs.FileMode(0o600)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	if err := atomicfile.Write(path, data, mode); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

var (
	kioskIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	regionRE  = regexp.MustCompile(`^[0-9]{6}$`)
	pinHashRE = regexp.MustCompile(`^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$`)
)

// Validate checks every setting and reports all problems at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if !kioskIDRE.MatchString(c.Kiosk.ID) {
		bad("kiosk.id", "%q must be the id the platform issued: 1 to 64 letters, digits, '-', '_' or '.'", c.Kiosk.ID)
	}
	if !slices.Contains(WindowSizes, c.Kiosk.WindowSize) {
		bad("kiosk.window_size", "%q must be one of %s", c.Kiosk.WindowSize, strings.Join(WindowSizes, ", "))
	}
	if _, err := c.Kiosk.Location(); err != nil {
		bad("kiosk.time_zone", "%v", err)
	}
	if !regionRE.MatchString(c.Kiosk.Region) {
		bad("kiosk.region", "%q must be a 6-digit division code such as 441900", c.Kiosk.Region)
	}
	if !slices.Contains([]string{"zh-CN", "en"}, c.Kiosk.Language) {
		bad("kiosk.language", "%q must be zh-CN or en", c.Kiosk.Language)
	}
	checkDevice := func(name string, port string, baud int) {
		if port != "" && !filepath.IsAbs(port) {
			bad("devices."+name+".port", "%q must be an absolute device path such as /dev/ttyUSB0, or empty to probe", port)
		}
		if baud != 0 && !slices.Contains([]int{1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600}, baud) {
			bad("devices."+name+".baud", "%d is not a standard rate (9600, 19200, 38400, 57600, 115200, …) or 0 to probe", baud)
		}
	}
	checkDevice("idcard", c.Devices.IDCard.Port, c.Devices.IDCard.Baud)
	checkDevice("printer", c.Devices.Printer.Port, c.Devices.Printer.Baud)
	checkDevice("scanner", c.Devices.Scanner.Port, c.Devices.Scanner.Baud)
	if names := assets.PrinterProfileNames(); !slices.Contains(names, c.Devices.Printer.Profile) {
		bad("devices.printer.profile", "%q is not a known printer profile (%s)", c.Devices.Printer.Profile, strings.Join(names, ", "))
	}
	if c.Platform.URL != "" {
		u, err := url.Parse(c.Platform.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("platform.url", "%q must be an http:// or https:// URL, or empty for offline-only", c.Platform.URL)
		}
	}
	between := func(key string, d, lo, hi time.Duration) {
		if d < lo || d > hi {
			bad(key, "%s must be between %s and %s", d, lo, hi)
		}
	}
	between("platform.timeout", c.Platform.Timeout, time.Second, 5*time.Minute)
	between("platform.sync_interval", c.Platform.SyncInterval, 5*time.Second, 24*time.Hour)
	between("session.idle_timeout", c.Session.IdleTimeout, 20*time.Second, 10*time.Minute)
	between("session.elder_idle_timeout", c.Session.ElderIdleTimeout, c.Session.IdleTimeout, 20*time.Minute)
	between("session.warning", c.Session.Warning, 5*time.Second, c.Session.IdleTimeout/2)
	for _, th := range []struct {
		key string
		v   float64
	}{{"session.blank_threshold", c.Session.BlankThreshold}, {"session.blur_threshold", c.Session.BlurThreshold}} {
		if !(th.v > 0 && th.v <= 1) {
			bad(th.key, "%g must be above 0 and at most 1", th.v)
		}
	}
	if c.Session.LookupURL != "" {
		u, err := url.Parse(c.Session.LookupURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("session.lookup_url", "%q must be an http(s) URL or empty", c.Session.LookupURL)
		}
	}
	if !filepath.IsAbs(c.Storage.DataDir) {
		bad("storage.data_dir", "%q must be an absolute path", c.Storage.DataDir)
	}
	if !filepath.IsAbs(c.Storage.KeyFile) {
		bad("storage.key_file", "%q must be an absolute path", c.Storage.KeyFile)
	} else if filepath.IsAbs(c.Storage.DataDir) {
		if rel, err := filepath.Rel(c.Storage.DataDir, c.Storage.KeyFile); err == nil && !strings.HasPrefix(rel, "..") {
			bad("storage.key_file", "%q must be outside storage.data_dir, so a copied data directory cannot be decrypted", c.Storage.KeyFile)
		}
	}
	if c.Storage.RetentionDays < 1 || c.Storage.RetentionDays > 90 {
		bad("storage.retention_days", "%d must be between 1 and 90 days", c.Storage.RetentionDays)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		bad("log.level", "%q must be debug, info, warn or error", c.Log.Level)
	}
	if c.Technician.PINHash != "" && !pinHashRE.MatchString(c.Technician.PINHash) {
		bad("technician.pin_hash", "must be an argon2id hash (set it with `onedoor config set-pin`), or empty")
	}
	c.Voice.validate(bad)
	if len(errs) == 0 {
		return nil
	}
	return errors.Join(append([]error{fmt.Errorf("%w: %d problem(s)", ErrInvalid, len(errs))}, errs...)...)
}
