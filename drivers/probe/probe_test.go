package probe_test

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"onedoor/drivers/idcard"
	"onedoor/drivers/probe"
	"onedoor/drivers/serialport"
	"onedoor/drivers/sim"
)

// recorder is a second device kind that never recognises anything and
// notes which ports it was offered, to check that probers run in order.
type recorder struct {
	mu   sync.Mutex
	seen map[string]int
}

func (r *recorder) Kind() string { return "printer" }
func (r *recorder) Bauds() []int { return []int{9600} }
func (r *recorder) Identify(ctx context.Context, p *serialport.Port) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen[p.Config().Path]++
	return "", false
}

func TestProbeFindsReaderAmongNoise(t *testing.T) {
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	open := func(name string) *sim.PTY {
		pt, err := sim.OpenPTY(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pt.Close() })
		return pt
	}
	open("silent")
	garbage := open("garbage")
	go func() {
		// A device that never stops talking, in a language with no 0xAA.
		rng := rand.New(rand.NewPCG(1, 2))
		buf := make([]byte, 64)
		for ctx.Err() == nil {
			for i := range buf {
				buf[i] = byte(rng.IntN(0x80))
			}
			if _, err := garbage.Master.Write(buf); err != nil {
				return
			}
		}
	}()
	reader := open("reader")
	s := sim.NewIDCard(sim.IDCardConfig{Baud: 19200, Logger: quiet})
	go s.Serve(ctx, reader)
	fast := open("reader-fast")
	go sim.NewIDCard(sim.IDCardConfig{Logger: quiet}).Serve(ctx, fast)

	ports := []string{
		filepath.Join(dir, "silent"), filepath.Join(dir, "garbage"), filepath.Join(dir, "reader"),
		filepath.Join(dir, "missing"), filepath.Join(dir, "reader-fast"),
	}
	rec := &recorder{seen: map[string]int{}}
	got := probe.Run(ctx, ports, []probe.Prober{rec, idcard.Prober{}})

	want := []struct {
		kind string
		baud int
	}{{"", 0}, {"", 0}, {"idcard", 19200}, {"", 0}, {"idcard", 115200}}
	for i, w := range want {
		r := got[i]
		if r.Port != ports[i] || r.Kind != w.kind || r.Baud != w.baud {
			t.Errorf("port %s: got %+v, want kind %q baud %d", filepath.Base(ports[i]), r, w.kind, w.baud)
		}
	}
	if d := got[2].Detail; !strings.HasPrefix(d, "SAM 05.01-") {
		t.Errorf("reader detail %q", d)
	}
	if d := got[3].Detail; !strings.Contains(d, "cannot open") {
		t.Errorf("missing port detail %q", d)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	// The printer prober saw every openable port before the ID-card prober
	// claimed any of them.
	for _, p := range []string{ports[0], ports[1], ports[2], ports[4]} {
		if rec.seen[p] != 1 {
			t.Errorf("printer prober saw %s %d times, want 1", filepath.Base(p), rec.seen[p])
		}
	}
}
