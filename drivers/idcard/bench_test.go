package idcard_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"onedoor/drivers/idcard"
	"onedoor/drivers/serialport"
	"onedoor/drivers/sim"
)

// Bytes on the wire for one placement: find (10 out, 15 in), select
// (10 out, 19 in), read (10 out, 1,295 in).
const (
	exchangeOut = 10 + 10 + 10
	exchangeIn  = 15 + 19 + 1295
)

func wire(n, baud int) time.Duration { return time.Duration(n) * sim.ByteTime(baud) }

// BenchmarkCardToIdentity measures card placed → IdentityRead event through
// the Watch loop (default 100 ms poll interval), the simulator pacing its
// answers at the baud with no RF delay, cards placed at a random phase of
// the poll. Reported against the computed wire time of the exchange (both
// directions); the goal is wire time + 120 ms, poll interval included.
//
//	go test -run XXX -bench CardToIdentity -benchtime 20x ./drivers/idcard/
func BenchmarkCardToIdentity(b *testing.B) {
	for _, baud := range []int{115200, 9600} {
		b.Run(fmt.Sprint(baud), func(b *testing.B) {
			rg := newRig(b, baud, baud)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ch := rg.r.Watch(ctx, idcard.WatchOptions{})
			waitFor := func(k idcard.EventKind) {
				for e := range ch {
					if e.Kind == k {
						return
					}
					if e.Kind == idcard.ReadFailed || e.Kind == idcard.DeviceError {
						var dump strings.Builder
						rg.port.Trace().Dump(&dump)
						b.Fatalf("%v: %v\nlast bytes:\n%s", e.Kind, e.Err, dump.String())
					}
				}
			}
			waitFor(idcard.DeviceReady)
			var lat []time.Duration
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				rg.sim.Place("resident")
				waitFor(idcard.IdentityRead)
				lat = append(lat, time.Since(start))
				b.StopTimer()
				rg.sim.Remove()
				waitFor(idcard.CardRemoved)
				// A resident's hand is not in step with the poll: place the
				// next card at a random phase of the interval.
				time.Sleep(time.Duration(rand.Int64N(int64(100 * time.Millisecond))))
				b.StartTimer()
			}
			b.StopTimer()
			slices.Sort(lat)
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			w := wire(exchangeOut+exchangeIn, baud)
			b.ReportMetric(ms(w), "wire-ms")
			b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
			b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
			b.ReportMetric(ms(lat[len(lat)-1]-w), "max-over-wire-ms")
		})
	}
}

// BenchmarkPacedBaseline is the floor the driver cannot beat: the same
// answer bytes paced through the same pty and read by tarm/serial, with no
// protocol, polling or decoding.
func BenchmarkPacedBaseline(b *testing.B) {
	for _, baud := range []int{115200, 9600} {
		b.Run(fmt.Sprint(baud), func(b *testing.B) {
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
			buf := make([]byte, exchangeIn)
			b.ResetTimer()
			for range b.N {
				errc := make(chan error, 1)
				go func() { errc <- sim.PacedWriteTail(context.Background(), pt.Master, buf, baud) }()
				if err := p.ReadFull(context.Background(), buf, time.Now().Add(10*time.Second)); err != nil {
					b.Fatal(err)
				}
				if err := <-errc; err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(wire(exchangeIn, baud))/float64(time.Millisecond), "wire-in-ms")
		})
	}
}
