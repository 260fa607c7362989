package scanner

import (
	"context"
	"strconv"
	"testing"
	"time"

	"onedoor/drivers/serialport"
	"onedoor/drivers/sim"
)

// BenchmarkScanTransfer pulls an A4 form scanned at 200 dpi grey (the
// kiosk's default) through the simulator paced at a real baud. It reports
// the transfer time (from BEGIN to the verified image, so the simulator's
// page rendering is not counted) against two baselines from the same run:
// the computed wire time of the image bytes (10 bit times per byte) and the
// measured time to send that many bytes raw through the same pty path and
// pacing, with no protocol. Results go in docs/BENCHMARKS.md under
// "Document scanner":
//
//	go test -run XXX -bench ScanTransfer -benchtime 1x ./drivers/scanner
func BenchmarkScanTransfer(b *testing.B) {
	for _, baud := range []int{115200, 921600} {
		for _, chunk := range []int{1024, 4096} {
			b.Run("baud="+strconv.Itoa(baud)+"/chunk="+strconv.Itoa(chunk), func(b *testing.B) {
				r := newRig(b, baud, nil, SerialConfig{Chunk: chunk})
				var total int64
				var spent, raw time.Duration
				for range b.N {
					mustFeed(b, r.sim, "form", 1)
					var began time.Time
					page, err := r.drv.Acquire(context.Background(), Options{DPI: 200, Paper: A4}, func(done, tot int64) {
						if done == 0 {
							began = time.Now()
						}
					})
					if err != nil {
						b.Fatal(err)
					}
					spent += time.Since(began)
					total = page.Stats.Bytes
					raw += rawWire(b, int(total), baud)
				}
				n := time.Duration(b.N)
				wire := time.Duration(total) * sim.ByteTime(baud)
				b.ReportMetric(float64(total), "image-bytes")
				b.ReportMetric((spent / n).Seconds(), "transfer-s")
				b.ReportMetric((raw / n).Seconds(), "raw-s")
				b.ReportMetric(wire.Seconds(), "wire-s")
				b.ReportMetric(float64(spent)/float64(raw), "x-raw")
			})
		}
	}
}

// rawWire times size bytes written with the simulator's pacing through a
// fresh pty and read by serialport.
func rawWire(b *testing.B, size, baud int) time.Duration {
	b.Helper()
	pt, err := sim.OpenPTY("")
	if err != nil {
		b.Fatal(err)
	}
	defer pt.Close()
	p, err := serialport.Open(serialport.Config{Path: pt.SlavePath, Baud: baud})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	payload, buf := make([]byte, size), make([]byte, size)
	start := time.Now()
	errc := make(chan error, 1)
	go func() { errc <- sim.PacedWrite(context.Background(), pt.Master, payload, baud) }()
	if err := p.ReadFull(context.Background(), buf, time.Now().Add(2*time.Minute)); err != nil {
		b.Fatal(err)
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}
