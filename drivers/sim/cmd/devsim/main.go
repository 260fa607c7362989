// Command devsim runs OneDoor's simulated serial devices on
// pseudo-terminals, for development, demos and manual testing:
//
//	go run ./drivers/sim/cmd/devsim [--dir DIR] [--idcard-baud 115200] [--rf-delay 300ms]
//
// It prints one line per device — name, pty path, stable symlink under DIR
// (default $TMPDIR/onedoor-devsim) — then "ready", and takes commands on
// standard input, one per line:
//
//	list                        devices, their ptys and whether plugged in
//	idcard place KEY            put a fictional card on the reader (idcard cards lists them)
//	idcard remove               take it off
//	idcard fault KIND           checksum|drop|extra|silence|readfail|pull|mute|none
//	scanner feed PAGE [N]       put test pages in the scanner (scanner pages lists them)
//	scanner fault KIND          jam|cover|corrupt|stall|hash|drop; scanner clear ends a jam or open cover
//	printer paperout N          the paper runs out after N more lines; printer paper refill
//	printer cover open|close    printer status; printed pages go to --printer-out as PNG + text
//	NAME unplug | NAME replug   pull the device's USB cable / plug it back (new pty, same symlink)
//	quit
//
// When standard input ends devsim keeps running until SIGINT or SIGTERM, so
// it can run in the background.
//
// Adding a simulator: implement Device (the ID-card simulator sim.IDCard is
// the example: Name, Serve on a *sim.PTY until the context ends, Command for
// its stdin commands), and add one line to hosted below. Unplug/replug,
// symlinks and list come for free.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"onedoor/drivers/escpos"
	"onedoor/drivers/sim"
)

// Device is a simulator devsim can host.
type Device interface {
	Name() string                                // also the symlink's name under --dir
	Serve(ctx context.Context, p *sim.PTY) error // speak the protocol until ctx ends
	Command(args []string) (string, error)       // one stdin command, NAME already stripped
}

type options struct {
	dir        string
	idcardBaud int
	rfDelay    time.Duration
	log        *slog.Logger

	printerProfile, printerOut string
	printerBaud                int
}

// hosted lists the simulators devsim runs.
func hosted(o options) []Device {
	return []Device{
		sim.NewIDCard(sim.IDCardConfig{Baud: o.idcardBaud, RFDelay: o.rfDelay, Logger: o.log}),
		sim.NewScanner(sim.WithScannerLogger(o.log)),
		printerSim(o),
	}
}

// printerSim builds the simulated receipt printer; run has already checked
// that the profile loads.
func printerSim(o options) Device {
	prof, _ := escpos.LoadProfile(o.printerProfile)
	p, err := sim.NewPrinter(prof, sim.WithPrinterBaud(o.printerBaud), sim.WithOutputDir(o.printerOut),
		sim.WithPrintSpeed(1600), sim.WithLogger(o.log))
	if err != nil {
		panic(err) // only the embedded fonts can fail here, and they are tested
	}
	return p
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "devsim:", err)
		os.Exit(1)
	}
}

// slot is one hosted device and its current pty.
type slot struct {
	dev  Device
	link string

	mu     sync.Mutex
	pty    *sim.PTY
	cancel context.CancelFunc
	done   chan struct{}
}

func (s *slot) plug(ctx context.Context, log *slog.Logger) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pty != nil {
		return fmt.Errorf("%s is already plugged in", s.dev.Name())
	}
	p, err := sim.OpenPTY(s.link)
	if err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.dev.Serve(sctx, p); err != nil {
			log.Warn("simulator stopped", "device", s.dev.Name(), "err", err)
		}
	}()
	s.pty, s.cancel, s.done = p, cancel, done
	return nil
}

func (s *slot) unplug() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pty == nil {
		return fmt.Errorf("%s is not plugged in", s.dev.Name())
	}
	s.cancel()
	<-s.done
	err := s.pty.Close()
	// udev removes the by-id link with the device; so do we.
	os.Remove(s.link)
	s.pty = nil
	return err
}

func (s *slot) describe() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pty == nil {
		return fmt.Sprintf("%-8s unplugged   %s", s.dev.Name(), s.link)
	}
	return fmt.Sprintf("%-8s %-11s %s", s.dev.Name(), s.pty.SlavePath, s.link)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("devsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.dir, "dir", filepath.Join(os.TempDir(), "onedoor-devsim"), "folder for the stable symlinks")
	fs.IntVar(&o.idcardBaud, "idcard-baud", 115200, "rate the simulated ID-card reader talks at")
	fs.DurationVar(&o.rfDelay, "rf-delay", 300*time.Millisecond, "simulated RF exchange before a card read answer")
	fs.StringVar(&o.printerProfile, "printer-profile", "generic-80", "profile of the simulated receipt printer (assets/printers)")
	fs.IntVar(&o.printerBaud, "printer-baud", 9600, "rate the simulated printer talks at")
	fs.StringVar(&o.printerOut, "printer-out", "", "folder for printed pages (default DIR/printer-pages)")
	verbose := fs.Bool("v", false, "log every simulated answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := escpos.LoadProfile(o.printerProfile); err != nil {
		return err
	}
	if o.printerOut == "" {
		o.printerOut = filepath.Join(o.dir, "printer-pages")
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	o.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return err
	}

	var slots []*slot
	byName := map[string]*slot{}
	defer func() {
		for _, s := range slots {
			s.unplug()
		}
	}()
	for _, d := range hosted(o) {
		s := &slot{dev: d, link: filepath.Join(o.dir, d.Name())}
		if err := s.plug(ctx, o.log); err != nil {
			return err
		}
		slots = append(slots, s)
		byName[d.Name()] = s
		fmt.Fprintln(stdout, s.describe())
	}
	fmt.Fprintln(stdout, `ready; type "help" for commands`)

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			return nil
		case line, ok = <-lines:
		}
		if !ok {
			// Stdin ended (running in the background): serve until signalled.
			<-ctx.Done()
			return nil
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		out, err := command(ctx, f, slots, byName, o.log)
		if errors.Is(err, errQuit) {
			return nil
		}
		if err != nil {
			fmt.Fprintln(stdout, "error:", err)
			continue
		}
		if out != "" {
			fmt.Fprintln(stdout, out)
		}
	}
}

var errQuit = errors.New("quit")

func command(ctx context.Context, f []string, slots []*slot, byName map[string]*slot, log *slog.Logger) (string, error) {
	switch f[0] {
	case "quit", "exit":
		return "", errQuit
	case "help":
		return "list | NAME unplug | NAME replug | idcard place KEY | idcard remove | idcard fault KIND | idcard cards | idcard status | scanner feed PAGE [N] | scanner fault jam|cover|corrupt|stall|hash|drop | scanner clear | scanner pages | scanner status | printer paperout N | printer paper refill | printer cover open|close | printer status | quit", nil
	case "list":
		var b []string
		for _, s := range slots {
			b = append(b, s.describe())
		}
		return strings.Join(b, "\n"), nil
	}
	s, ok := byName[f[0]]
	if !ok {
		return "", fmt.Errorf("no device %q (try list)", f[0])
	}
	if len(f) == 2 && f[1] == "unplug" {
		if err := s.unplug(); err != nil {
			return "", err
		}
		return f[0] + " unplugged", nil
	}
	if len(f) == 2 && f[1] == "replug" {
		if err := s.plug(ctx, log); err != nil {
			return "", err
		}
		return s.describe(), nil
	}
	return s.dev.Command(f[1:])
}
