package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"onedoor/kiosk/config"
)

const configUsage = `usage: onedoor config [--config FILE] validate
       onedoor config [--config FILE] get [KEY]
       onedoor config [--config FILE] set KEY VALUE
       onedoor config keys

Reads and changes the kiosk settings (default file: %s).
  validate   check the file; exit 1 and name each bad key when invalid
  get        print one setting, or every setting as KEY = VALUE
             (a missing file shows the defaults)
  set        change one setting; the value is checked and the file saved
             atomically, so a power cut never leaves half a file
  keys       list every setting
Keys are dotted, e.g. session.idle_timeout, devices.printer.port.
Durations are written like 60s or 2m.
`

// isSecret reports settings that are never echoed back.
func isSecret(key string) bool { return key == "platform.token" || key == "technician.pin_hash" }

func runConfig(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("config", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() { fmt.Fprintf(stderr, configUsage, config.DefaultPath()) }
	path := fl.String("config", config.DefaultPath(), "configuration file")
	if err := fl.Parse(args); err != nil {
		return exitUsage
	}
	rest := fl.Args()
	if len(rest) == 0 {
		fl.Usage()
		return exitUsage
	}
	load := func() (config.Config, bool, error) {
		c, err := config.Load(*path)
		if errors.Is(err, fs.ErrNotExist) {
			return config.Default(), false, nil
		}
		return c, true, err
	}
	switch cmd, rest := rest[0], rest[1:]; cmd {
	case "keys":
		if len(rest) != 0 {
			fl.Usage()
			return exitUsage
		}
		fmt.Fprintln(stdout, strings.Join(config.Keys(), "\n"))
		return exitOK
	case "validate":
		if len(rest) != 0 {
			fl.Usage()
			return exitUsage
		}
		if _, err := config.Load(*path); err != nil {
			fmt.Fprintln(stderr, err)
			return exitFailure
		}
		fmt.Fprintf(stdout, "%s: valid\n", *path)
		return exitOK
	case "get":
		if len(rest) > 1 {
			fl.Usage()
			return exitUsage
		}
		c, exists, err := load()
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitFailure
		}
		if !exists {
			fmt.Fprintf(stderr, "%s does not exist; showing the defaults\n", *path)
		}
		if len(rest) == 1 {
			v, err := c.Get(rest[0])
			if err != nil {
				fmt.Fprintln(stderr, err)
				return exitUsage
			}
			fmt.Fprintln(stdout, v)
			return exitOK
		}
		for _, k := range config.Keys() {
			v, err := c.Get(k)
			if err != nil {
				fmt.Fprintln(stderr, err)
				return exitFailure
			}
			if isSecret(k) && v != "" {
				v = "(set)"
			}
			fmt.Fprintf(stdout, "%s = %q\n", k, v)
		}
		return exitOK
	case "set":
		if len(rest) != 2 {
			fl.Usage()
			return exitUsage
		}
		c, _, err := load()
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitFailure
		}
		if err := c.Set(rest[0], rest[1]); err != nil {
			fmt.Fprintln(stderr, err)
			if errors.Is(err, config.ErrUnknownKey) {
				return exitUsage
			}
			return exitFailure
		}
		if err := config.Save(*path, c); err != nil {
			fmt.Fprintln(stderr, err)
			return exitFailure
		}
		shown := rest[1]
		if isSecret(rest[0]) {
			shown = "(set)"
		}
		fmt.Fprintf(stdout, "%s: %s = %s\n", *path, rest[0], shown)
		return exitOK
	default:
		fmt.Fprintf(stderr, "onedoor config: unknown command %q\n", cmd)
		fl.Usage()
		return exitUsage
	}
}
