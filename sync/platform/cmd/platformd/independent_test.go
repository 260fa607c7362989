package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestIndependentClient runs a kiosk client written from docs/sync-api.md
// alone, in Python 3's standard library (testdata/independent_client.py),
// against a real platformd: it enrols a key pair with a one-time code,
// uploads a page resumably, submits, replays, reads the feed, looks the
// case up with the lookup code and the holder proof, rates and sends
// heartbeats. Skipped only when python3 is absent (build/setup installs it).
func TestIndependentClient(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed (build/setup installs it)")
	}
	dir := t.TempDir()
	code, out, errOut := runCmd(t, "", "kiosk", "add", "--data", dir, "--id", "PY-0001")
	if code != exitOK {
		t.Fatalf("kiosk add = %d %s", code, errOut)
	}
	enrol := strings.TrimSpace(out)
	os.WriteFile(filepath.Join(dir, "catalog.json"), []byte(`{"version":"t","items":[]}`), 0o600)
	base := startServe(t, "--data", dir)
	page := filepath.Join(t.TempDir(), "page.png")
	os.WriteFile(page, bytes.Repeat([]byte{0x89, 'P', 'N', 'G', 1, 2, 3, 4}, 3000), 0o600)

	cmd := exec.Command(py, "testdata/independent_client.py", base, "PY-0001", enrol, page)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("independent client: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "OK ") {
		t.Fatalf("independent client said %q", stdout.String())
	}
	// What it sent is on the platform: one submission naming the page.
	code, exported, _ := runCmd(t, "", "export", "--data", dir)
	if code != exitOK || strings.Count(exported, "\n") != 1 || !strings.Contains(exported, `"kiosk_id":"PY-0001"`) || !strings.Contains(exported, `"blobs":["`) {
		t.Fatalf("export after the independent client = %d %s", code, exported)
	}
	t.Logf("independent client: %s", strings.TrimSpace(stdout.String()))
}
