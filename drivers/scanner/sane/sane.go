// Package sane scans through SANE's scanimage command, for the USB document
// scanners most Linux kiosks actually have. It builds the command line from
// scanner.Options, turns scanimage's progress lines into progress
// callbacks and its status messages into the scanner package's typed
// errors, and normalises the page like every other backend.
package sane

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strconv"
	"strings"

	"onedoor/drivers/scanner"
)

// ErrNotInstalled means scanimage is not on this machine (package
// sane-utils on Debian).
var ErrNotInstalled = errors.New("sane: scanimage is not installed")

// maxImage bounds what is read from scanimage; an A4 colour PNG at 600 dpi
// is under 100 MB.
const maxImage = 200 << 20

// Backend scans with scanimage. The zero value uses the default device.
type Backend struct {
	Device  string // SANE device name, e.g. "epson2:libusb:001:004"; "" for the default
	Command string // path or name of scanimage; "" means "scanimage" on PATH
	Logger  *slog.Logger
}

func (b *Backend) command() (string, error) {
	name := b.Command
	if name == "" {
		name = "scanimage"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrNotInstalled, err)
	}
	return path, nil
}

// Available reports whether scanimage can be run.
func (b *Backend) Available() error {
	_, err := b.command()
	return err
}

// Args builds scanimage's arguments for one page: PNG on stdout (lossless;
// Normalize makes the JPEG), progress on stderr, the page area in mm.
func Args(device string, opts scanner.Options) ([]string, error) {
	dpi := opts.DPI
	if dpi == 0 {
		dpi = 200
	}
	if dpi < 50 || dpi > 1200 {
		return nil, fmt.Errorf("sane: %d dpi is out of range", dpi)
	}
	w, h, err := opts.Paper.MM()
	if err != nil {
		return nil, err
	}
	mode := "Gray"
	if opts.Colour {
		mode = "Color"
	}
	var args []string
	if device != "" {
		if strings.HasPrefix(device, "-") {
			return nil, fmt.Errorf("sane: device name %q looks like an option", device)
		}
		args = append(args, "--device-name="+device)
	}
	return append(args,
		"--format=png",
		"--progress",
		"--mode="+mode,
		"--resolution="+strconv.Itoa(dpi),
		"-l", "0", "-t", "0",
		"-x", strconv.FormatFloat(w, 'f', -1, 64),
		"-y", strconv.FormatFloat(h, 'f', -1, 64),
	), nil
}

// Scan acquires one page and normalises it.
func (b *Backend) Scan(ctx context.Context, opts scanner.Options, progress func(done, total int64)) (scanner.Page, error) {
	raw, err := b.Acquire(ctx, opts, progress)
	if err != nil {
		return scanner.Page{}, err
	}
	return scanner.Normalize(raw.Data, raw.DPI, opts.Norm)
}

// Acquire runs scanimage for one page. progress is called with permille
// (total 1000) as scanimage reports its percentage.
func (b *Backend) Acquire(ctx context.Context, opts scanner.Options, progress func(done, total int64)) (scanner.Raw, error) {
	path, err := b.command()
	if err != nil {
		return scanner.Raw{}, err
	}
	args, err := Args(b.Device, opts)
	if err != nil {
		return scanner.Raw{}, err
	}
	log := b.Logger
	if log == nil {
		log = slog.Default()
	}
	if progress == nil {
		progress = func(int64, int64) {}
	}
	cmd := exec.CommandContext(ctx, path, args...)
	var out limitedBuffer
	out.limit = maxImage
	cmd.Stdout = &out
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return scanner.Raw{}, fmt.Errorf("sane: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return scanner.Raw{}, fmt.Errorf("sane: start scanimage: %w", err)
	}
	var messages []string
	sc := bufio.NewScanner(stderr)
	sc.Split(splitCRLF)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if pm, ok := ParseProgress(line); ok {
			progress(pm, 1000)
			continue
		}
		if line != "" && len(messages) < 20 {
			messages = append(messages, line)
		}
	}
	// Keep draining after an over-long line, or scanimage would block on a
	// full pipe and never exit.
	_, _ = io.Copy(io.Discard, stderr)
	err = cmd.Wait()
	if ctx.Err() != nil {
		return scanner.Raw{}, ctx.Err()
	}
	if out.overflow {
		return scanner.Raw{}, fmt.Errorf("%w: scanimage sent more than %d bytes", scanner.ErrBadImage, maxImage)
	}
	if err != nil || out.Len() == 0 {
		return scanner.Raw{}, Classify(strings.Join(messages, "\n"), err)
	}
	log.Info("sane scan done", "device", b.Device, "bytes", out.Len())
	progress(1000, 1000)
	return scanner.Raw{Data: out.Bytes(), DPI: opts.DPI, Stats: scanner.Transfer{Bytes: int64(out.Len()), WireBytes: int64(out.Len())}}, nil
}

// ParseProgress reads scanimage's "Progress: 42.5%" line as permille.
func ParseProgress(line string) (int64, bool) {
	rest, ok := strings.CutPrefix(line, "Progress:")
	if !ok {
		return 0, false
	}
	rest = strings.TrimSuffix(strings.TrimSpace(rest), "%")
	f, err := strconv.ParseFloat(rest, 64)
	if err != nil || f < 0 || f > 100 {
		return 0, false
	}
	return int64(f*10 + 0.5), true
}

// Classify turns scanimage's stderr (SANE's sane_strstatus texts) into the
// scanner package's typed errors.
func Classify(stderr string, runErr error) error {
	msg := strings.TrimSpace(stderr)
	if msg == "" && runErr != nil {
		msg = runErr.Error()
	}
	if msg == "" {
		msg = "scanimage produced no image"
	}
	lower := strings.ToLower(msg)
	var base error
	switch {
	case strings.Contains(lower, "out of documents"), strings.Contains(lower, "no documents"):
		base = scanner.ErrNoDocument
	case strings.Contains(lower, "jammed"):
		base = scanner.ErrPaperJam
	case strings.Contains(lower, "cover is open"):
		base = scanner.ErrCoverOpen
	default:
		base = scanner.ErrDevice
	}
	return fmt.Errorf("%w: scanimage: %s", base, firstLines(msg, 3))
}

func firstLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "; ")
}

// Device is one scanner SANE can see.
type Device struct {
	Name   string // what --device-name takes
	Vendor string
	Model  string
	Type   string
}

// listFormat asks scanimage for one device per line, fields split by a
// byte that SANE names do not contain.
const listFormat = "%d\x1f%v\x1f%m\x1f%t%n"

// List asks scanimage which scanners are attached.
func (b *Backend) List(ctx context.Context) ([]Device, error) {
	path, err := b.command()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, path, "--formatted-device-list="+listFormat)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, Classify(stderr.String(), err)
	}
	return ParseDeviceList(out), nil
}

// ParseDeviceList reads the output of --formatted-device-list=listFormat.
func ParseDeviceList(out []byte) []Device {
	var devs []Device
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(strings.TrimRight(line, "\r"), "\x1f")
		if len(f) != 4 || f[0] == "" {
			continue
		}
		devs = append(devs, Device{Name: f[0], Vendor: f[1], Model: f[2], Type: f[3]})
	}
	return devs
}

// splitCRLF splits on \r or \n: scanimage rewrites its progress line with
// carriage returns.
func splitCRLF(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// limitedBuffer keeps at most limit bytes and notes whether more came.
type limitedBuffer struct {
	bytes.Buffer
	limit    int
	overflow bool
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if l.Len()+len(p) > l.limit {
		l.overflow = true
		return 0, io.ErrShortWrite
	}
	return l.Buffer.Write(p)
}
