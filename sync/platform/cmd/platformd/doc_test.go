package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// docExample is one `$ command` of docs/sync-api.md and the output the
// document shows for it.
type docExample struct {
	line    int
	command string
	want    []string
}

// parseDocExamples reads the ```sh blocks of the document: a block without
// "$ " lines is a definition (run as it is, first), a "$ " line starts a
// command (continued by a trailing backslash or a here-document), and the
// lines after it up to the next command are its output.
func parseDocExamples(doc string) (defs []string, exs []docExample) {
	lines := strings.Split(doc, "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```sh" {
			continue
		}
		var block []string
		start := i + 1
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			block = append(block, lines[i])
		}
		hasCmd := false
		for _, l := range block {
			hasCmd = hasCmd || strings.HasPrefix(l, "$ ")
		}
		if !hasCmd {
			defs = append(defs, strings.Join(block, "\n"))
			continue
		}
		for j := 0; j < len(block); j++ {
			if !strings.HasPrefix(block[j], "$ ") {
				continue
			}
			ex := docExample{line: start + j + 1, command: strings.TrimPrefix(block[j], "$ ")}
			heredoc := ""
			if m := regexp.MustCompile(`<<'?(\w+)'?`).FindStringSubmatch(ex.command); m != nil {
				heredoc = m[1]
			}
			for strings.HasSuffix(ex.command, "\\") && j+1 < len(block) {
				j++
				ex.command += "\n" + block[j]
			}
			if heredoc != "" {
				for j+1 < len(block) {
					j++
					ex.command += "\n" + block[j]
					if block[j] == heredoc {
						break
					}
				}
			}
			for j+1 < len(block) && !strings.HasPrefix(block[j+1], "$ ") {
				j++
				if strings.TrimSpace(block[j]) != "" {
					ex.want = append(ex.want, block[j])
				}
			}
			exs = append(exs, ex)
		}
	}
	return defs, exs
}

// lineMatches compares one shown line with one actual line: JSON by
// jsonMatches, anything else exactly, where "…" stands for any text.
func lineMatches(want, got string) bool {
	got = strings.TrimRight(got, "\r")
	if strings.HasPrefix(want, "{") {
		var w, g any
		if json.Unmarshal([]byte(want), &w) != nil || json.Unmarshal([]byte(got), &g) != nil {
			return false
		}
		return jsonMatches(w, g)
	}
	parts := strings.Split(want, "…")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$").MatchString(got)
}

// jsonMatches: same keys, same values, where a shown string holding "…"
// matches any string (times, case numbers).
func jsonMatches(w, g any) bool {
	switch w := w.(type) {
	case map[string]any:
		g, ok := g.(map[string]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k, v := range w {
			if gv, ok := g[k]; !ok || !jsonMatches(v, gv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := g.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !jsonMatches(w[i], g[i]) {
				return false
			}
		}
		return true
	case string:
		gs, ok := g.(string)
		return ok && (strings.Contains(w, "…") || gs == w)
	default:
		return fmt.Sprint(w) == fmt.Sprint(g)
	}
}

// TestSyncAPIDocExamples runs every example of docs/sync-api.md, in order,
// in one bash session against a real platformd, with the document's own
// curl helper and openssl, and compares each output with the one shown:
// the shown lines must appear in order (extra headers such as Date may be
// between them).
func TestSyncAPIDocExamples(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (build/setup installs it)", tool)
		}
	}
	doc, err := os.ReadFile("../../../../docs/sync-api.md")
	if err != nil {
		t.Fatal(err)
	}
	defs, exs := parseDocExamples(string(doc))
	if len(defs) == 0 || len(exs) < 20 {
		t.Fatalf("found %d definitions and %d examples", len(defs), len(exs))
	}
	work := t.TempDir()
	data := filepath.Join(work, "data")
	os.MkdirAll(data, 0o700)
	os.WriteFile(filepath.Join(data, "catalog.json"), []byte(`{"version":"2026.11","items":[]}`), 0o600)
	os.WriteFile(filepath.Join(data, "metrics.token"), []byte("doc-metrics-token\n"), 0o600)
	page := bytes.Repeat([]byte("page-of-15000-b"), 1000) // 15000 bytes
	os.WriteFile(filepath.Join(work, "page.png"), page, 0o600)
	// `platformd` in the examples is this test binary (see TestMain).
	bin := filepath.Join(work, "bin")
	os.MkdirAll(bin, 0o700)
	self, _ := os.Executable()
	os.WriteFile(filepath.Join(bin, "platformd"), []byte("#!/bin/sh\n"+childEnv+"=1 exec '"+self+"' \"$@\"\n"), 0o700)
	base := startServe(t, "--data", data, "--metrics-token-file", filepath.Join(data, "metrics.token"))

	var script strings.Builder
	for _, d := range defs {
		script.WriteString(d + "\n")
	}
	for i, ex := range exs {
		fmt.Fprintf(&script, "echo '@@@ %d'\n%s\necho \"@@@ rc $?\"\n", i, ex.command)
	}
	cmd := exec.Command("bash", "-c", script.String())
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "BASE="+base, "DATA="+data, "KIOSK=DG-0001",
		"KEY="+filepath.Join(work, "kiosk.pem"), "METRICS_TOKEN=doc-metrics-token", "LC_ALL=C.UTF-8")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bash: %v\n%s\n%s", err, out, stderr.String())
	}
	sections := strings.Split(string(out), "@@@ ")
	got := map[int][]string{}
	rcs := map[int]string{}
	for _, s := range sections[1:] {
		head, body, _ := strings.Cut(s, "\n")
		if rc, ok := strings.CutPrefix(head, "rc "); ok {
			rcs[len(got)-1] = rc
			continue
		}
		var n int
		fmt.Sscan(head, &n)
		var lines []string
		for _, l := range strings.Split(body, "\n") {
			if strings.TrimSpace(l) != "" {
				lines = append(lines, l)
			}
		}
		got[n] = lines
	}
	for i, ex := range exs {
		if rcs[i] != "0" {
			t.Errorf("docs/sync-api.md:%d: %q exited %s\n%s", ex.line, ex.command, rcs[i], stderr.String())
			continue
		}
		j := 0
		for _, w := range ex.want {
			for j < len(got[i]) && !lineMatches(w, got[i][j]) {
				j++
			}
			if j == len(got[i]) {
				t.Errorf("docs/sync-api.md:%d: %q\nshown line %q not in the output:\n%s", ex.line, ex.command, w, strings.Join(got[i], "\n"))
				break
			}
			j++
		}
	}
	t.Logf("%d examples run", len(exs))
}
