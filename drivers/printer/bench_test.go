package printer

import (
	"context"
	"fmt"
	"testing"
	"time"

	"onedoor/drivers/escpos"
	"onedoor/drivers/sim"
)

// BenchmarkReceipt prints the sample receipt over a pty to the simulator,
// which prints at 1600 dot rows/s (200 mm/s at 8 dots/mm). The driver paces
// its writes at the baud rate, so the time is what a kiosk would see.
// Reported: job bytes, raster-image bytes, pure wire time at the baud rate
// (the baseline), and the whole job time as ns/op. Run with -benchtime 1x:
// one 9600-baud raster job takes about 11 s.
func BenchmarkReceipt(b *testing.B) {
	for _, profile := range []string{"generic-80", "generic-80-noqr"} {
		for _, baud := range []int{9600, 115200} {
			b.Run(fmt.Sprintf("%s/%d", profile, baud), func(b *testing.B) {
				prof, err := escpos.LoadProfile(profile)
				if err != nil {
					b.Fatal(err)
				}
				pt, err := sim.OpenPTY("")
				if err != nil {
					b.Fatal(err)
				}
				sp, err := sim.NewPrinter(prof, sim.WithPrintSpeed(1600))
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				go sp.Serve(ctx, pt)
				drv, err := Open(pt.SlavePath, Options{Baud: baud, Profile: prof})
				if err != nil {
					b.Fatal(err)
				}
				defer func() { drv.Close(); cancel(); pt.Close() }()
				job, err := SampleReceipt().Job(prof, nil)
				if err != nil {
					b.Fatal(err)
				}
				img := 0
				for _, c := range job.Commands {
					if c.Image {
						img += len(c.Bytes)
					}
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := drv.PrintJob(context.Background(), job); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				wire := time.Duration(job.Len()) * sim.ByteTime(baud)
				b.ReportMetric(float64(job.Len()), "bytes")
				b.ReportMetric(float64(img), "image-bytes")
				b.ReportMetric(wire.Seconds(), "wire-s")
				if s := sp.Stats(); s.Dropped != 0 {
					b.Fatalf("%d bytes dropped", s.Dropped)
				}
			})
		}
	}
}
