package serialport_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"onedoor/drivers/serialport"
	"onedoor/drivers/sim"
)

func openPair(t *testing.T, cfg serialport.Config) (*sim.PTY, *serialport.Port) {
	t.Helper()
	link := filepath.Join(t.TempDir(), "dev")
	pt, err := sim.OpenPTY(link)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pt.Close() })
	cfg.Path = link
	if cfg.Baud == 0 {
		cfg.Baud = 115200
	}
	p, err := serialport.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return pt, p
}

func TestWriteReadThroughPTY(t *testing.T) {
	pt, p := openPair(t, serialport.Config{})
	if _, err := p.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 4)
	if _, err := io.ReadFull(pt.Master, got); err != nil || string(got) != "ping" {
		t.Fatalf("master got %q, %v", got, err)
	}
	if _, err := pt.Master.Write([]byte("pong!")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if err := p.ReadFull(context.Background(), buf, time.Now().Add(2*time.Second)); err != nil || string(buf) != "pong!" {
		t.Fatalf("ReadFull = %q, %v", buf, err)
	}
	if st := p.State(); st.Status != serialport.StatusOK || st.String() != "ok" {
		t.Fatalf("state %v", st)
	}
}

func TestReadFullEnds(t *testing.T) {
	tests := []struct {
		name    string
		send    []byte
		want    error
		timeout time.Duration
		cancel  bool
	}{
		{name: "deadline with partial data", send: []byte{1, 2, 3}, want: serialport.ErrTimeout, timeout: 300 * time.Millisecond},
		{name: "deadline with silence", want: serialport.ErrTimeout, timeout: 200 * time.Millisecond},
		{name: "context cancelled", want: context.Canceled, timeout: 5 * time.Second, cancel: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pt, p := openPair(t, serialport.Config{})
			if len(tc.send) > 0 {
				pt.Master.Write(tc.send)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				time.AfterFunc(150*time.Millisecond, cancel)
			}
			err := p.ReadFull(ctx, make([]byte, 10), time.Now().Add(tc.timeout))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestResync(t *testing.T) {
	pre := []byte{0xAA, 0xAA, 0xAA, 0x96, 0x69}
	tests := []struct {
		name     string
		chunks   [][]byte
		skipped  int
		next     []byte
		wantFail bool
	}{
		{name: "clean", chunks: [][]byte{append(pre[:5:5], 1, 2)}, skipped: 0, next: []byte{1, 2}},
		{name: "noise before", chunks: [][]byte{{0x00, 0xAA, 0x13}, append(pre[:5:5], 7, 8)}, skipped: 3, next: []byte{7, 8}},
		{name: "preamble split over reads", chunks: [][]byte{{0x55, 0xAA, 0xAA}, {0xAA, 0x96}, {0x69, 9}}, skipped: 1, next: []byte{9}},
		{name: "extra AA before preamble", chunks: [][]byte{{0xAA, 0xAA, 0xAA, 0xAA, 0x96, 0x69, 4}}, skipped: 1, next: []byte{4}},
		{name: "no preamble", chunks: [][]byte{{1, 2, 3, 4, 5, 6, 7, 8}}, wantFail: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pt, p := openPair(t, serialport.Config{})
			go func() {
				for _, c := range tc.chunks {
					pt.Master.Write(c)
					time.Sleep(20 * time.Millisecond)
				}
			}()
			ctx := context.Background()
			skipped, err := p.Resync(ctx, pre, time.Now().Add(600*time.Millisecond))
			if tc.wantFail {
				if !errors.Is(err, serialport.ErrTimeout) {
					t.Fatalf("err = %v, want ErrTimeout", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if skipped != tc.skipped {
				t.Errorf("skipped %d, want %d", skipped, tc.skipped)
			}
			got := make([]byte, len(tc.next))
			if err := p.ReadFull(ctx, got, time.Now().Add(time.Second)); err != nil || !bytes.Equal(got, tc.next) {
				t.Fatalf("after resync read % X, %v; want % X", got, err, tc.next)
			}
		})
	}
}

func TestFlushDropsStaleInput(t *testing.T) {
	pt, p := openPair(t, serialport.Config{})
	pt.Master.Write([]byte("stale"))
	time.Sleep(50 * time.Millisecond) // let the line discipline take it in
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	pt.Master.Write([]byte("new"))
	got := make([]byte, 3)
	if err := p.ReadFull(context.Background(), got, time.Now().Add(time.Second)); err != nil || string(got) != "new" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestTraceRecordsBothDirections(t *testing.T) {
	var mu sync.Mutex
	var tapped []serialport.Record
	pt, p := openPair(t, serialport.Config{TraceBytes: 8, Tap: func(r serialport.Record) {
		mu.Lock()
		tapped = append(tapped, r)
		mu.Unlock()
	}})
	p.Write([]byte{0x11, 0xFF})
	io.ReadFull(pt.Master, make([]byte, 2))
	pt.Master.Write([]byte{0x90, 0x94, 1, 2, 3, 4, 5, 6, 7, 8})
	p.ReadFull(context.Background(), make([]byte, 10), time.Now().Add(time.Second))

	recs := p.Trace().Records()
	total := 0
	for _, r := range recs {
		total += len(r.Data)
	}
	if total != 8 {
		t.Fatalf("ring holds %d bytes, want its limit 8: %v", total, recs)
	}
	last := recs[len(recs)-1]
	if last.Dir != serialport.In || last.Data[len(last.Data)-1] != 8 {
		t.Fatalf("newest record %+v", last)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(tapped) < 2 || tapped[0].Dir != serialport.Out || !bytes.Equal(tapped[0].Data, []byte{0x11, 0xFF}) {
		t.Fatalf("tap saw %+v", tapped)
	}
	var dump strings.Builder
	p.Trace().Dump(&dump)
	if !strings.Contains(dump.String(), "07 08") || !strings.Contains(dump.String(), " < ") {
		t.Fatalf("dump:\n%s", dump.String())
	}
}

func TestTraceWithhold(t *testing.T) {
	tr := serialport.NewTrace(100)
	tr.Add(serialport.Out, []byte{0x30, 0x01})
	tr.Withhold(true)
	tr.Add(serialport.In, []byte("王晓梅"))
	tr.Add(serialport.Out, []byte{0x30, 0x03}) // commands stay visible
	tr.Withhold(false)
	tr.Add(serialport.In, []byte{0x90})
	recs := tr.Records()
	if len(recs) != 4 || recs[1].Data != nil || recs[1].Withheld != 9 || recs[2].Data == nil || recs[3].Data[0] != 0x90 {
		t.Fatalf("records %+v", recs)
	}
	if s := recs[1].String(); !strings.Contains(s, "9 bytes withheld") {
		t.Fatalf("withheld record prints %q", s)
	}
}

func TestTraceRing(t *testing.T) {
	tr := serialport.NewTrace(5)
	tr.Add(serialport.Out, []byte{1, 2, 3})
	tr.Add(serialport.In, []byte{4, 5, 6})
	tr.Add(serialport.In, []byte{7})
	var got []byte
	for _, r := range tr.Records() {
		got = append(got, r.Data...)
	}
	if !bytes.Equal(got, []byte{3, 4, 5, 6, 7}) {
		t.Fatalf("ring = %v", got)
	}
}

// TestUnplugReplug closes the pty (the device node vanishes, as when a USB
// adapter is pulled) and opens a new one at the same stable symlink.
func TestUnplugReplug(t *testing.T) {
	link := filepath.Join(t.TempDir(), "idcard")
	pt, err := sim.OpenPTY(link)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var states []string
	p, err := serialport.Open(serialport.Config{Path: link, Baud: 115200, OnState: func(s serialport.State) {
		mu.Lock()
		states = append(states, s.String())
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	pt.Close()
	// The first read after the unplug notices it; the next ones fail fast
	// with the typed error.
	for i := 0; i < 3; i++ {
		_, err := p.Read(make([]byte, 8))
		if !errors.Is(err, serialport.ErrDisconnected) {
			t.Fatalf("read %d during gap: err = %v, want ErrDisconnected", i, err)
		}
	}
	if _, err := p.Write([]byte{1}); !errors.Is(err, serialport.ErrDisconnected) {
		t.Fatalf("write during gap: %v", err)
	}
	if st := p.State(); st.Status != serialport.StatusAbsent {
		t.Fatalf("state during gap = %v, want absent", st)
	}
	time.Sleep(300 * time.Millisecond) // stay unplugged for a few backoff steps

	pt2, err := sim.OpenPTY(link)
	if err != nil {
		t.Fatal(err)
	}
	defer pt2.Close()
	replugged := time.Now()
	for {
		if _, err := p.Write([]byte("back")); err == nil {
			break
		}
		if time.Since(replugged) > 2*time.Second {
			t.Fatalf("not reconnected 2 s after replug; state %v", p.State())
		}
		time.Sleep(10 * time.Millisecond)
	}
	got := make([]byte, 4)
	if _, err := io.ReadFull(pt2.Master, got); err != nil || string(got) != "back" {
		t.Fatalf("new pty got %q, %v", got, err)
	}
	pt2.Master.Write([]byte("ok"))
	if err := p.ReadFull(context.Background(), got[:2], time.Now().Add(time.Second)); err != nil || string(got[:2]) != "ok" {
		t.Fatalf("read after replug %q, %v", got[:2], err)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(states, ",") != "absent,ok" {
		t.Fatalf("state changes %v, want absent then ok", states)
	}
}

func TestOpenAllowAbsent(t *testing.T) {
	link := filepath.Join(t.TempDir(), "later")
	if _, err := serialport.Open(serialport.Config{Path: link, Baud: 9600}); err == nil {
		t.Fatal("Open of a missing device succeeded without AllowAbsent")
	}
	p, err := serialport.Open(serialport.Config{Path: link, Baud: 9600, AllowAbsent: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.State().Status != serialport.StatusAbsent {
		t.Fatalf("state %v", p.State())
	}
	pt, err := sim.OpenPTY(link)
	if err != nil {
		t.Fatal(err)
	}
	defer pt.Close()
	deadline := time.Now().Add(2 * time.Second)
	for p.State().Status != serialport.StatusOK {
		p.Read(make([]byte, 1))
		if time.Now().After(deadline) {
			t.Fatalf("never opened: %v", p.State())
		}
	}
	p.Close()
	if _, err := p.Read(make([]byte, 1)); !errors.Is(err, serialport.ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
}
