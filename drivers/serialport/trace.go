package serialport

import (
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Dir says which way bytes travelled.
type Dir byte

const (
	In  Dir = '<' // from the device
	Out Dir = '>' // to the device
)

// Record is one chunk of bytes as a single read or write moved it.
type Record struct {
	At   time.Time
	Dir  Dir
	Data []byte
	// Withheld counts bytes that passed but were not kept, because the
	// driver marked them as personal data (see Trace.Withhold).
	Withheld int
}

// String renders the record for technicians: a header line with time,
// direction and length, then a hex dump with an ASCII column.
func (r Record) String() string {
	var b strings.Builder
	if r.Withheld > 0 {
		fmt.Fprintf(&b, "%s %c %d bytes withheld (personal data)\n", r.At.Format("15:04:05.000"), r.Dir, r.Withheld)
		return b.String()
	}
	fmt.Fprintf(&b, "%s %c %d bytes\n", r.At.Format("15:04:05.000"), r.Dir, len(r.Data))
	for _, line := range strings.SplitAfter(hex.Dump(r.Data), "\n") {
		if line != "" {
			b.WriteString("  ")
			b.WriteString(line)
		}
	}
	return b.String()
}

// Trace is a ring of the most recent bytes in and out of a port, bounded by
// a byte count so a chatty device cannot grow it. Safe for concurrent use.
type Trace struct {
	mu       sync.Mutex
	limit    int
	total    int
	recs     []Record
	withhold bool
}

// Withhold makes the trace keep only the count of incoming bytes, not the
// bytes, until called with false: a driver sets it around answers that
// carry personal data (an ID card's text block), so that neither the ring
// nor a live trace shows them.
func (t *Trace) Withhold(on bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.withhold = on
}

// NewTrace returns a trace that keeps about limit bytes.
func NewTrace(limit int) *Trace { return &Trace{limit: max(limit, 1)} }

// Add records b (copied) and returns the record.
func (t *Trace) Add(d Dir, b []byte) Record {
	r := Record{At: time.Now(), Dir: d}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.withhold && d == In {
		r.Withheld = len(b)
	} else {
		r.Data = append([]byte(nil), b...)
	}
	t.recs = append(t.recs, r)
	t.total += len(r.Data)
	drop := 0
	for t.total > t.limit && drop < len(t.recs) {
		over := t.total - t.limit
		first := &t.recs[drop]
		if len(first.Data) > over {
			// Keep the newest bytes of a chunk that straddles the limit.
			first.Data = first.Data[over:]
			t.total -= over
			break
		}
		t.total -= len(first.Data)
		drop++
	}
	if drop > 0 {
		t.recs = append(t.recs[:0:0], t.recs[drop:]...)
	}
	return r
}

// Records returns a copy of what the ring holds, oldest first.
func (t *Trace) Records() []Record {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Record(nil), t.recs...)
}

// Dump writes every record as a hex dump, oldest first.
func (t *Trace) Dump(w io.Writer) error {
	for _, r := range t.Records() {
		if _, err := io.WriteString(w, r.String()); err != nil {
			return err
		}
	}
	return nil
}
