// Package scanner is the document scanner of the kiosk. Real serial
// scanners share no protocol, so OneDoor defines its own
// (docs/scanner-protocol.md, codec in the wire subpackage) and drives it with
// Serial; the sane subpackage drives USB scanners through SANE's scanimage.
// Whatever the backend, every page goes through Normalize, so the flow sees
// the same JPEG format, resolution and quality scores from any device, and
// can ask the resident to rescan a blank or blurred page.
package scanner

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Conditions the caller acts on (show a message, ask for another try).
var (
	ErrNoDocument = errors.New("scanner: no document in the feeder")
	ErrPaperJam   = errors.New("scanner: paper jam")
	ErrCoverOpen  = errors.New("scanner: cover open")
	// ErrDevice is any other refusal or malfunction reported by the device.
	ErrDevice = errors.New("scanner: device error")
	// ErrStalled means the transfer made no progress through every retry.
	ErrStalled = errors.New("scanner: transfer stalled")
	// ErrIntegrity means the received image did not match the device's
	// SHA-256, even after pulling it again.
	ErrIntegrity = errors.New("scanner: image failed its SHA-256 check")
	// ErrBadImage means the device sent bytes that are not a usable image.
	ErrBadImage = errors.New("scanner: image cannot be decoded")
)

// Scanner is what the kiosk needs from any backend: one page, normalised,
// with progress reported as bytes (or permille when the backend only knows
// a percentage) so the UI can draw a bar. The first call, (0, total), comes
// when the sheet has gone through and the transfer starts; until then the
// UI shows that the sheet is feeding. progress may be nil; it is called on
// the caller's goroutine.
type Scanner interface {
	Scan(ctx context.Context, opts Options, progress func(done, total int64)) (Page, error)
}

// Paper is a sheet size the device is asked to scan.
type Paper string

// Paper sizes the kiosk asks for.
const (
	A4 Paper = "A4"
	A5 Paper = "A5"
)

// MM returns the paper's width and height in millimetres.
func (p Paper) MM() (w, h float64, err error) {
	switch p {
	case A4, "":
		return 210, 297, nil
	case A5:
		return 148, 210, nil
	}
	return 0, 0, fmt.Errorf("scanner: unknown paper size %q (A4 or A5)", string(p))
}

// Options says how to scan and how to normalise the result.
type Options struct {
	DPI    int   // resolution asked of the device; 0 means 200
	Colour bool  // scan in colour; greyscale otherwise
	Paper  Paper // "" means A4
	Norm   NormalizeOptions
}

func (o Options) withDefaults() Options {
	if o.DPI == 0 {
		o.DPI = 200
	}
	if o.Paper == "" {
		o.Paper = A4
	}
	return o
}

// Raw is a page as the device delivered it, before normalisation.
type Raw struct {
	Data  []byte // encoded image (JPEG or PNG)
	DPI   int    // resolution the device scanned at, 0 if unknown
	Stats Transfer
}

// Transfer describes how the bytes of a page travelled, for logs and the
// technician screen.
type Transfer struct {
	Bytes       int64         `json:"bytes"`       // size of the image
	WireBytes   int64         `json:"wire_bytes"`  // image bytes accepted (equals Bytes unless the image was pulled again)
	Chunks      int           `json:"chunks"`      // chunks accepted
	Retransmits int           `json:"retransmits"` // NAKs sent (damaged chunk or stall)
	Resumes     []int64       `json:"resumes"`     // offsets the transfer resumed from after a glitch
	Duration    time.Duration `json:"duration_ns"` // from SCAN to verified image
}

// Page is a normalised page.
type Page struct {
	JPEG   []byte
	Width  int
	Height int
	DPI    int
	Grey   bool
	// InkCoverage is the blank-page score: the share of the page (margins
	// excluded) markedly darker than the paper. Blank is InkCoverage below
	// the threshold.
	InkCoverage float64
	Blank       bool
	// Sharpness is the blur score: the median variance of the Laplacian
	// over the tiles that hold content, measured at AnalysisDPI. Blurred is
	// Sharpness below the threshold (never set on a blank page).
	Sharpness float64
	Blurred   bool
	Transfer  Transfer
}

// NeedsRescan reports whether the UI should ask for the page again.
func (p Page) NeedsRescan() bool { return p.Blank || p.Blurred }
