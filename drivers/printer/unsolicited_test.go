package printer

import (
	"context"
	"testing"
	"time"

	"onedoor/drivers/escpos"
	"onedoor/drivers/sim"
)

// A printer with Automatic Status Back on, a noisy line and flow-control
// bytes: the driver must still pair each DLE EOT with its own reply.
func TestStatusToleratesUnsolicitedBytes(t *testing.T) {
	pt, err := sim.OpenPTY("")
	if err != nil {
		t.Fatal(err)
	}
	defer pt.Close()
	m, err := sim.PollableMaster(pt)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	// Replies with DLE EOT 4 saying "near end"; every reply is preceded by
	// an ASB message (whose last bytes look like GS r replies), an XOFF/XON
	// pair and a byte that fits no pattern.
	noise := []byte{0x10, 0x00, 0x0C, 0x00, escpos.XOFF, escpos.XON, 0x81}
	go func() {
		buf := make([]byte, 3)
		for {
			m.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := m.Read(buf[:1]); err != nil {
				return
			}
			if buf[0] != escpos.DLE {
				continue
			}
			if _, err := m.Read(buf[1:3]); err != nil {
				return
			}
			reply := byte(0x12)
			if buf[2] == 4 {
				reply = 0x1E
			}
			m.Write(append(append([]byte(nil), noise...), reply))
		}
	}()
	prof, _ := escpos.LoadProfile("generic-80")
	// The count of stray bytes below holds only when every query is
	// answered before the driver gives up on it and asks again: a retried
	// query is answered twice, and the second answer's noise is counted
	// too (65 instead of 60, seen under CPU load, where the simulator's
	// goroutine behind the pty answered after the default 500 ms). This
	// test is about pairing replies amid noise, not about that timeout
	// (TestNoPrinterGivesNoReply is), so the wait for one reply is made
	// far longer than a loaded machine needs.
	drv, err := Open(pt.SlavePath, Options{Baud: 9600, Profile: prof, StatusTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	for i := 0; i < 3; i++ {
		st, err := drv.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !st.Online || !st.PaperNearEnd || st.PaperEnd || st.CoverOpen {
			t.Fatalf("round %d: status %s", i, st)
		}
	}
	if got := drv.StrayBytes(); got != 3*4*5 { // 3 rounds of DLE EOT 1..4, each reply after 4 ASB bytes and 0x81
		t.Errorf("%d stray bytes counted, want 60", got)
	}
	if drv.isPaused() {
		t.Fatal("left paused although XON followed XOFF")
	}
}
