package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"onedoor/sync/client"
	"onedoor/sync/platform"
	"onedoor/sync/platform/local"
)

// childEnv makes the test binary run platformd itself (see TestMain), so a
// test can SIGKILL a real platform process.
const childEnv = "PLATFORMD_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// startChild runs `platformd serve` as a child process and returns its base
// URL.
func startChild(t *testing.T, dir string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "--addr", "127.0.0.1:0", "--data", dir)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("platformd printed nothing: %v", err)
	}
	go io.Copy(io.Discard, out)
	return cmd, strings.TrimSpace(strings.TrimPrefix(line, "platformd: listening on "))
}

// TestKillDuringUploads SIGKILLs a real platformd while kiosks upload
// scanned pages (small ones go into the pack files, larger ones through
// partial files), restarts it, and repeats. Every blob whose PATCH was
// answered with success before a kill must be complete and intact at the
// end: a kiosk that was told the platform holds a page never sends it
// again. A process kill leaves the page cache, so this checks the order of
// writes, not a power cut (TestPackIndexRebuilt in sync/platform covers an
// index that lost its newest rows).
func TestKillDuringUploads(t *testing.T) {
	cycles := 24
	if testing.Short() {
		cycles = 4
	}
	dir := t.TempDir()
	code, tok, _ := runCmd(t, "", "kiosk", "add", "--data", dir, "--id", "DG-0001", "--token")
	tok = strings.TrimSpace(tok)
	if code != exitOK {
		t.Fatalf("kiosk add = %d", code)
	}
	rng := rand.New(rand.NewPCG(20261125, 1))
	var mu sync.Mutex
	acked := map[string][]byte{}
	for cycle := range cycles {
		cmd, base := startChild(t, dir)
		c, err := client.New(client.Config{BaseURL: base, KioskID: "DG-0001", Token: tok,
			RetryMax: -1, IdleTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range 6 {
			seed := rng.Uint64()
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(seed, uint64(w)))
				for ctx.Err() == nil {
					size := 1 + r.IntN(48<<10)
					if r.IntN(8) == 0 {
						size = 500<<10 + r.IntN(300<<10) // over the pack limit
					}
					b := make([]byte, size)
					for i := range b {
						b[i] = byte(r.Uint32())
					}
					sum := sha256.Sum256(b)
					sha := hex.EncodeToString(sum[:])
					if _, err := c.UploadNewBlob(ctx, sha, int64(size), bytes.NewReader(b), nil); err == nil {
						mu.Lock()
						acked[sha] = b
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(time.Duration(30+rng.IntN(250)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		cancel()
		wg.Wait()
		t.Logf("cycle %d: %d blobs acknowledged so far", cycle, len(acked))
	}
	if len(acked) < cycles {
		t.Fatalf("only %d uploads succeeded in %d cycles: the test did not exercise the platform", len(acked), cycles)
	}
	dataKey, err := platform.LoadOrCreateDataKey(filepath.Join(dir, local.DataKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := local.OpenBlobs(filepath.Join(dir, "blobs"), dataKey)
	if err != nil {
		t.Fatal(err)
	}
	defer blobs.Close()
	for sha, want := range acked {
		f, err := blobs.Open(t.Context(), sha)
		if err != nil {
			t.Fatalf("acknowledged blob %.12s missing after the kills: %v", sha, err)
		}
		got, err := io.ReadAll(f)
		f.Close()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("acknowledged blob %.12s damaged after the kills (%d of %d bytes, %v)", sha, len(got), len(want), err)
		}
	}
}
