package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"onedoor/drivers/idcard"
	"onedoor/drivers/probe"
	"onedoor/drivers/probe/probers"
	"onedoor/drivers/serialport"
	"onedoor/pii"
)

// cardMultiFlag collects a repeatable string flag.
type cardMultiFlag []string

func (m *cardMultiFlag) String() string     { return strings.Join(*m, ",") }
func (m *cardMultiFlag) Set(v string) error { *m = append(*m, v); return nil }

// cardFlags returns a flag set that reports to stderr and does not exit.
func cardFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("onedoor devices "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// cardLog keeps driver logs off the technician's terminal unless asked.
func cardLog(stderr io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelWarn + 4
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

// runDevicesList prints the serial ports worth probing.
func runDevicesList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cardFlags("list", stderr)
	var extra cardMultiFlag
	fs.Var(&extra, "extra", "also list this configured path (repeatable)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return exitUsage
	}
	cands := serialport.ListCandidates(extra)
	if len(cands) == 0 {
		fmt.Fprintln(stdout, "no serial ports found")
		return exitOK
	}
	for _, c := range cands {
		line := c.Path
		if c.Target != "" {
			line += " -> " + c.Target
		}
		if !c.Exists {
			line += "  (absent)"
		}
		fmt.Fprintln(stdout, line)
	}
	return exitOK
}

// runDevicesProbe finds which device answers on which port at which baud.
func runDevicesProbe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cardFlags("probe", stderr)
	asJSON := fs.Bool("json", false, "print a JSON array")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	ports := fs.Args()
	if len(ports) == 0 {
		for _, c := range serialport.ListCandidates(nil) {
			if c.Exists {
				ports = append(ports, c.Path)
			}
		}
	}
	if len(ports) == 0 {
		fmt.Fprintln(stderr, "onedoor: no serial ports to probe")
		return exitDevice
	}
	results := probe.Run(ctx, ports, probers.All())
	found := 0
	for _, r := range results {
		if r.Kind != "" {
			found++
		}
	}
	if *asJSON {
		json.NewEncoder(stdout).Encode(results)
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PORT\tDEVICE\tBAUD\tDETAIL")
		for _, r := range results {
			kind, baud := r.Kind, fmt.Sprint(r.Baud)
			if kind == "" {
				kind, baud = "-", "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Port, kind, baud, r.Detail)
		}
		tw.Flush()
	}
	if found == 0 {
		return exitDevice
	}
	return exitOK
}

// runDevicesCard waits for an ID card and prints what it holds.
func runDevicesCard(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cardFlags("card", stderr)
	port := fs.String("port", "", "serial port of the ID-card reader (required)")
	baud := fs.Int("baud", 0, "baud rate; 0 tries 115200, 57600, 38400, 19200, 9600")
	asJSON := fs.Bool("json", false, "print one JSON object")
	wait := fs.Duration("wait", 30*time.Second, "how long to wait for a card")
	unmask := fs.Bool("unmask", false, "show the full ID number")
	verbose := fs.Bool("v", false, "log protocol events to stderr")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return exitUsage
	}
	if *port == "" {
		fmt.Fprintln(stderr, "onedoor devices card: --port is required (see `onedoor devices probe`)")
		return exitUsage
	}
	log := cardLog(stderr, *verbose)

	var p *serialport.Port
	var err error
	if *baud == 0 {
		p, *baud, err = idcard.Discover(ctx, *port, nil)
	} else {
		p, err = serialport.Open(serialport.Config{Path: *port, Baud: *baud})
	}
	if err != nil {
		fmt.Fprintln(stderr, "onedoor:", err)
		return exitDevice
	}
	defer p.Close()

	wctx, cancel := context.WithTimeout(ctx, *wait)
	defer cancel()
	r := idcard.NewReader(p, idcard.Options{Baud: *baud, Logger: log})
	fmt.Fprintf(stderr, "waiting up to %s for a card on %s (%d baud)…\n", *wait, *port, *baud)
	for ev := range r.Watch(wctx, idcard.WatchOptions{}) {
		switch ev.Kind {
		case idcard.CardPlaced:
			fmt.Fprintln(stderr, "card placed, reading…")
		case idcard.DeviceError:
			fmt.Fprintln(stderr, "onedoor: reader error:", ev.Err)
			return exitDevice
		case idcard.ReadFailed:
			fmt.Fprintln(stderr, "onedoor: card could not be read:", ev.Err)
			return exitDevice
		case idcard.IdentityRead:
			if *asJSON {
				printCardJSON(stdout, *ev.Identity, *unmask, ev.Err)
			} else {
				printCard(stdout, *ev.Identity, *unmask)
			}
			if ev.Err != nil {
				fmt.Fprintln(stderr, "warning:", ev.Err)
			}
			return exitOK
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "onedoor: interrupted")
		return exitFailure
	}
	fmt.Fprintf(stderr, "onedoor: no card within %s\n", *wait)
	return exitTimeout
}

func cardTypeLabel(t idcard.CardType) string {
	switch t {
	case idcard.Resident:
		return "居民身份证 resident ID card"
	case idcard.HKMOTW:
		return "港澳台居民居住证 HK/Macau/Taiwan residence permit"
	case idcard.Foreign2017:
		return "外国人永久居留身份证 (2017) foreigner permanent residence card"
	case idcard.Foreign2023:
		return "外国人永久居留身份证 (2023) foreigner permanent residence card"
	}
	return string(t)
}

func printCard(w io.Writer, id idcard.Identity, unmask bool) {
	num := id.IDNumber
	if !unmask {
		num = pii.MaskID(num)
	}
	type row struct{ label, v string }
	rows := []row{
		{"证件 type", cardTypeLabel(id.Type)},
		{"姓名 name", id.Name},
		{"英文姓名 English name", id.EnglishName},
		{"性别 sex", id.Sex},
		{"民族 nation", id.Nation},
		{"出生 birth date", id.BirthDate},
		{"住址 address", id.Address},
		{"号码 ID number", num},
		{"签发机关 authority", id.Authority},
		{"有效期 valid", id.ValidFrom + " – " + id.ValidTo},
		{"通行证号码 permit number", id.PermitNumber},
		{"签发次数 issue count", id.IssueCount},
		{"国籍 nationality", id.Nationality},
		{"换证次数 renewal count", id.RenewalCount},
		{"照片 photo", fmt.Sprintf("%d bytes WLT (needs a licensed decoder)", len(id.PhotoWLT))},
	}
	// tabwriter counts runes, but a terminal gives CJK characters two
	// columns: pad by display width instead.
	width := func(s string) int {
		n := 0
		for _, r := range s {
			if r >= 0x2E80 {
				n += 2
			} else {
				n++
			}
		}
		return n
	}
	labelW := 0
	for _, r := range rows {
		labelW = max(labelW, width(r.label))
	}
	for _, r := range rows {
		if r.v != "" {
			fmt.Fprintf(w, "%s%s  %s\n", r.label, strings.Repeat(" ", labelW-width(r.label)), r.v)
		}
	}
}

func printCardJSON(w io.Writer, id idcard.Identity, unmask bool, warn error) {
	if !unmask {
		id.IDNumber = pii.MaskID(id.IDNumber)
	}
	out := struct {
		idcard.Identity
		Expired bool `json:"expired"`
	}{id, errors.Is(warn, idcard.ErrExpired)}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(out)
}

// runDevicesTrace shows the bytes on a port as they pass, optionally
// sending a frame first or running the ID-card poll loop to watch it talk.
func runDevicesTrace(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cardFlags("trace", stderr)
	port := fs.String("port", "", "serial port (required)")
	baud := fs.Int("baud", 115200, "baud rate")
	var send cardMultiFlag
	fs.Var(&send, "send", "hex bytes to send after opening, e.g. AAAAAA9669000311FFED (repeatable)")
	poll := fs.Bool("idcard", false, "run the ID-card reader's poll loop and show its events too")
	cardData := fs.Bool("card-data", false, "with --idcard: show card answers too (they hold personal data)")
	dur := fs.Duration("for", 0, "stop after this long (default: until interrupted)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return exitUsage
	}
	if *port == "" {
		fmt.Fprintln(stderr, "onedoor devices trace: --port is required")
		return exitUsage
	}
	var frames [][]byte
	for _, s := range send {
		b, err := hex.DecodeString(strings.NewReplacer(" ", "", ":", "").Replace(s))
		if err != nil {
			fmt.Fprintf(stderr, "onedoor devices trace: --send %q: %v\n", s, err)
			return exitUsage
		}
		frames = append(frames, b)
	}
	if *dur > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *dur)
		defer cancel()
	}
	var mu sync.Mutex
	say := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		io.WriteString(stdout, s)
	}
	p, err := serialport.Open(serialport.Config{
		Path: *port, Baud: *baud, AllowAbsent: true,
		Tap: func(r serialport.Record) { say(r.String()) },
		OnState: func(s serialport.State) {
			say(fmt.Sprintf("%s port %s\n", time.Now().Format("15:04:05.000"), s))
		},
	})
	if err != nil {
		fmt.Fprintln(stderr, "onedoor:", err)
		return exitDevice
	}
	defer p.Close()
	if st := p.State(); st.Status != serialport.StatusOK {
		fmt.Fprintf(stderr, "onedoor: %s is %s; waiting for it\n", *port, st)
	}
	fmt.Fprintf(stderr, "tracing %s at %d baud (> to device, < from device); Ctrl-C stops\n", *port, *baud)
	for _, f := range frames {
		if _, err := p.Write(f); err != nil {
			fmt.Fprintln(stderr, "onedoor:", err)
			return exitDevice
		}
	}
	if *poll {
		r := idcard.NewReader(p, idcard.Options{Baud: *baud, Logger: cardLog(stderr, false), TraceCardData: *cardData})
		for ev := range r.Watch(ctx, idcard.WatchOptions{Interval: 500 * time.Millisecond}) {
			msg := ev.Kind.String()
			if ev.Err != nil {
				msg += ": " + ev.Err.Error()
			}
			say(fmt.Sprintf("%s event %s\n", ev.At.Format("15:04:05.000"), msg))
		}
		return exitOK
	}
	buf := make([]byte, 512)
	for ctx.Err() == nil {
		if _, err := p.Read(buf); err != nil {
			// Absent: OnState has said so; wait for the device to return.
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return exitOK
}
