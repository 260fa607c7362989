package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"time"

	"onedoor/kiosk/config"
	"onedoor/kiosk/techpin"
	"onedoor/sync/client"
)

// secretKeys are shown masked unless --reveal is given: a technician's
// screen or terminal log should not carry the platform token.
var secretKeys = map[string]bool{"platform.token": true, "technician.pin_hash": true}

// runConfig reads and changes settings:
//
//	onedoor config get [KEY...]         all settings, or the named ones
//	onedoor config set KEY VALUE ...    validated, then saved atomically
//	onedoor config validate             exit 0 when the file is valid
//	onedoor config set-pin              technician PIN from stdin (hashed)
//	onedoor config enrol --code CODE    make the kiosk's key pair, register it
//	                                    with the platform, keep it as platform.token
func runConfig(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: onedoor config get|set|validate|set-pin [--config FILE] ...")
		return exitUsage
	}
	sub := args[0]
	fl := flag.NewFlagSet("onedoor config "+sub, flag.ContinueOnError)
	fl.SetOutput(stderr)
	path := fl.String("config", technicianConfigPath(), "configuration file")
	reveal := fl.Bool("reveal", false, "get: show the platform token and PIN hash instead of masking them")
	code := fl.String("code", "", "enrol: the one-time enrolment code from `platformd kiosk add`")
	alg := fl.String("algorithm", "ed25519", "enrol: key algorithm, ed25519 or sm2 (国密)")
	if err := fl.Parse(args[1:]); err != nil {
		return exitUsage
	}
	rest := fl.Args()
	switch sub {
	case "get":
		cfg, code := loadForConfig(*path, true, stderr)
		if code != exitOK {
			return code
		}
		keys := rest
		if len(keys) == 0 {
			keys = config.Keys()
		}
		for _, k := range keys {
			v, err := cfg.Get(k)
			if err != nil {
				fmt.Fprintf(stderr, "onedoor config get: %v (see `onedoor config get` for every key)\n", err)
				return exitUsage
			}
			if secretKeys[k] && v != "" && !*reveal {
				v = "(set; --reveal shows it)"
			}
			if len(rest) == 1 {
				fmt.Fprintln(stdout, v)
			} else {
				fmt.Fprintf(stdout, "%s = %s\n", k, v)
			}
		}
		return exitOK
	case "set":
		if len(rest) == 0 || len(rest)%2 != 0 {
			fmt.Fprintln(stderr, "usage: onedoor config set [--config FILE] KEY VALUE [KEY VALUE ...]")
			return exitUsage
		}
		cfg, code := loadForConfig(*path, false, stderr)
		if code != exitOK {
			return code
		}
		for i := 0; i < len(rest); i += 2 {
			if err := cfg.Set(rest[i], rest[i+1]); err != nil {
				fmt.Fprintf(stderr, "onedoor config set: nothing saved: %s\n", indent(err))
				if errors.Is(err, config.ErrUnknownKey) {
					return exitUsage
				}
				return exitFailure
			}
		}
		if err := config.Save(*path, cfg); err != nil {
			fmt.Fprintf(stderr, "onedoor config set: %v\n", err)
			return exitFailure
		}
		for i := 0; i < len(rest); i += 2 {
			v, _ := cfg.Get(rest[i])
			if secretKeys[rest[i]] {
				v = "(set)"
			}
			fmt.Fprintf(stdout, "%s = %s\n", rest[i], v)
		}
		fmt.Fprintf(stdout, "saved %s; restart the kiosk (systemctl restart onedoor-kiosk) or apply it from the technician screen\n", *path)
		return exitOK
	case "validate":
		if len(rest) > 0 {
			fmt.Fprintln(stderr, "usage: onedoor config validate [--config FILE]")
			return exitUsage
		}
		if _, err := config.Load(*path); err != nil {
			fmt.Fprintf(stderr, "onedoor config validate: %s\n", indent(err))
			return exitFailure
		}
		fmt.Fprintf(stdout, "%s: valid\n", *path)
		return exitOK
	case "set-pin":
		if len(rest) > 0 {
			fmt.Fprintln(stderr, "usage: onedoor config set-pin [--config FILE]   (the PIN is read twice from standard input)")
			return exitUsage
		}
		cfg, code := loadForConfig(*path, false, stderr)
		if code != exitOK {
			return code
		}
		in := bufio.NewScanner(os.Stdin)
		read := func(prompt string) string {
			fmt.Fprint(stderr, prompt)
			if !in.Scan() {
				return ""
			}
			return strings.TrimSpace(in.Text())
		}
		pin := read("new technician PIN (6 to 12 digits): ")
		if again := read("again: "); again != pin {
			fmt.Fprintln(stderr, "onedoor config set-pin: the two PINs differ; nothing saved")
			return exitFailure
		}
		h, err := techpin.Hash(pin, techpin.DefaultParams)
		if err == nil {
			err = cfg.Set("technician.pin_hash", h)
		}
		if err == nil {
			err = config.Save(*path, cfg)
		}
		if err != nil {
			fmt.Fprintf(stderr, "onedoor config set-pin: %v\n", err)
			return exitFailure
		}
		fmt.Fprintf(stdout, "technician PIN set in %s\n", *path)
		return exitOK
	case "enrol":
		// The key pair is made here, on the kiosk; only its public half
		// goes to the platform. The queue is untouched: the kiosk id stays.
		cfg, code2 := loadForConfig(*path, false, stderr)
		if code2 != exitOK {
			return code2
		}
		if *code == "" || cfg.Platform.URL == "" || cfg.Kiosk.ID == "" {
			fmt.Fprintln(stderr, "usage: onedoor config enrol --code CODE [--config FILE]   (platform.url and kiosk.id must be set)")
			return exitUsage
		}
		hc := &http.Client{Timeout: 30 * time.Second}
		if f := cfg.Platform.CAFile; f != "" {
			pem, err := os.ReadFile(f)
			pool := x509.NewCertPool()
			if err != nil || !pool.AppendCertsFromPEM(pem) {
				fmt.Fprintf(stderr, "onedoor config enrol: platform.ca_file %s: no PEM certificate (%v)\n", f, err)
				return exitFailure
			}
			hc.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
		}
		cred, resp, err := client.EnrolAlgorithm(ctx, cfg.Platform.URL, cfg.Kiosk.ID, *code, *alg, hc)
		if err == nil {
			err = cfg.Set("platform.token", cred)
		}
		if err == nil {
			err = config.Save(*path, cfg)
		}
		if err != nil {
			fmt.Fprintf(stderr, "onedoor config enrol: %v\n", err)
			return exitFailure
		}
		fmt.Fprintf(stdout, "kiosk %s enrolled with an %s key at %s; key saved in %s\n", resp.KioskID, resp.Algorithm, resp.EnrolledAt.Format(time.RFC3339), *path)
		return exitOK
	}
	fmt.Fprintf(stderr, "onedoor config: unknown subcommand %q (get, set, validate, set-pin, enrol)\n", sub)
	return exitUsage
}

// installedConfig is where the .deb puts the kiosk's settings.
const installedConfig = "/etc/onedoor/config.toml"

// technicianConfigPath is the default --config of the technician commands:
// $ONEDOOR_CONFIG, else the user's own config file if there is one, else
// the installed kiosk's, so that on a kiosk `onedoor doctor` run by root
// checks the kiosk and not root's (absent) settings.
func technicianConfigPath() string {
	if p := os.Getenv("ONEDOOR_CONFIG"); p != "" {
		return p
	}
	p := config.DefaultPath()
	if _, err := os.Stat(p); err != nil {
		if _, err := os.Stat(installedConfig); err == nil {
			return installedConfig
		}
	}
	return p
}

// loadForConfig loads the file; a missing file gives the defaults (set
// creates the file), any other error is reported.
func loadForConfig(path string, readOnly bool, stderr io.Writer) (config.Config, int) {
	cfg, err := config.Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		if readOnly {
			fmt.Fprintf(stderr, "onedoor config: %s does not exist; showing defaults\n", path)
		}
		return config.Default(), exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "onedoor config: %s\n", indent(err))
		if readOnly {
			return config.Config{}, exitFailure
		}
		fmt.Fprintln(stderr, "fix the file by hand first (`onedoor config validate` lists every problem)")
		return config.Config{}, exitFailure
	}
	return cfg, exitOK
}

func indent(err error) string { return strings.ReplaceAll(err.Error(), "\n", "\n  ") }
