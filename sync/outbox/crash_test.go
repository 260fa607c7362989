package outbox_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"onedoor/sync/outbox"
)

const crashChildEnv = "OUTBOX_CRASH_CHILD_DIR"

// TestKillDuringSubmit runs Submit in a child process, kills it with
// SIGKILL at random moments, and restarts it on the same directory. Every
// receipt the child printed (it prints only after Submit returned) must be
// in the store with every blob present and authentic; the database must
// pass integrity_check. Rows committed but not printed (the child died
// between commit and print) are allowed; their blobs must be whole too.
func TestKillDuringSubmit(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		return
	}
	cycles := 8
	if testing.Short() {
		cycles = 2
	}
	e := newEnv(t)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	printed := map[string]bool{}
	for c := range cycles {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillDuringSubmit$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+e.dir, crashChildEnv+"_KEY="+e.keyFile)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Wait for the child to be running, then kill it at a random point.
		first, ok := <-lines
		if !ok {
			cmd.Wait()
			t.Fatalf("cycle %d: child printed nothing", c)
		}
		if first != "ready" {
			t.Fatalf("cycle %d: child said %q", c, first)
		}
		time.Sleep(time.Duration(20+rng.IntN(300)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		n := 0
		for l := range lines {
			if strings.HasPrefix(l, "K01-") {
				printed[l] = true
				n++
			}
		}
		cmd.Wait()
		t.Logf("cycle %d: %d receipts printed before SIGKILL", c, n)
	}
	if len(printed) == 0 {
		t.Fatal("the children stored nothing; the test proves nothing")
	}
	s := e.open(t)
	ctx := context.Background()
	var check string
	rawDB(t, e).QueryRow(`PRAGMA integrity_check`).Scan(&check)
	if check != "ok" {
		t.Errorf("integrity_check: %s", check)
	}
	for r := range printed {
		if _, err := s.Lookup(ctx, r); err != nil {
			t.Errorf("printed receipt %s lost: %v", r, err)
		}
	}
	rows := 0
	for {
		p, err := s.NextDue(ctx, e.clock.Now().Add(24*time.Hour))
		if err != nil {
			t.Fatalf("NextDue: %v", err)
		}
		if p == nil {
			break
		}
		rows++
		for _, b := range p.Blobs {
			r, err := s.OpenBlob(ctx, b.SHA256)
			if err != nil {
				t.Errorf("%s: blob %s: %v", p.Receipt, b.SHA256, err)
				continue
			}
			h := sha256.New()
			if _, err := io.Copy(h, r); err != nil {
				t.Errorf("%s: blob %s: %v", p.Receipt, b.SHA256, err)
			} else if hex.EncodeToString(h.Sum(nil)) != b.SHA256 {
				t.Errorf("%s: blob %s has other content", p.Receipt, b.SHA256)
			}
			r.Close()
		}
	}
	if rows < len(printed) {
		t.Errorf("%d rows for %d printed receipts", rows, len(printed))
	}
	t.Logf("%d receipts printed, %d rows stored (%d committed but not yet printed when killed)", len(printed), rows, rows-len(printed))
}

// crashChild submits forever, printing each receipt after Submit returns.
func crashChild(dir string) {
	e := &env{dir: dir, keyFile: os.Getenv(crashChildEnv + "_KEY"), clock: newClock(), logs: &lockedBuffer{}}
	o := e.options()
	o.Logger = nil
	s, err := outbox.Open(context.Background(), o)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("ready")
	for i := 0; ; i++ {
		seed := uint64(time.Now().UnixNano())
		sub := sampleSubmission(seed, 1000+int(seed%200_000), 5000, 1+int(seed%70_000))
		rc, err := s.Submit(context.Background(), sub)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(rc.Number)
	}
}
