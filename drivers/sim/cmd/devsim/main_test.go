package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"onedoor/drivers/idcard"
	"onedoor/drivers/serialport"
)

func TestDevsimServesAndTakesCommands(t *testing.T) {
	dir := t.TempDir()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--dir", dir, "--rf-delay", "0"}, inR, outW, io.Discard)
		outW.Close()
	}()
	out := bufio.NewScanner(outR)
	readLine := func() string {
		t.Helper()
		if !out.Scan() {
			t.Fatal("devsim output ended")
		}
		return out.Text()
	}
	say := func(cmd string) string {
		t.Helper()
		if _, err := io.WriteString(inW, cmd+"\n"); err != nil {
			t.Fatal(err)
		}
		return readLine()
	}

	first := readLine()
	link := filepath.Join(dir, "idcard")
	if !strings.HasPrefix(first, "idcard") || !strings.Contains(first, "/dev/pts/") || !strings.HasSuffix(first, link) {
		t.Fatalf("first line %q", first)
	}
	// One line per further hosted device, then ready.
	for l := readLine(); !strings.HasPrefix(l, "ready"); l = readLine() {
		if !strings.Contains(l, "/dev/pts/") {
			t.Fatalf("want a device line or ready, got %q", l)
		}
	}
	if l := say("idcard place foreign2023"); l != "placed foreign2023" {
		t.Fatalf("place: %q", l)
	}
	if l := say("idcard place nobody"); !strings.HasPrefix(l, "error: no card") {
		t.Fatalf("bad key: %q", l)
	}

	p, err := serialport.Open(serialport.Config{Path: link, Baud: 115200})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r := idcard.NewReader(p, idcard.Options{})
	id, err := r.ReadIdentity(ctx)
	if err != nil || id.EnglishName != "GARCIA LOPEZ MARIA FERNANDA DE LAS NIEVES" {
		t.Fatalf("read through devsim: %+v, %v", id, err)
	}

	if l := say("idcard unplug"); l != "idcard unplugged" {
		t.Fatalf("unplug: %q", l)
	}
	if _, err := os.Lstat(link); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("symlink still there after unplug: %v", err)
	}
	if l := say("idcard replug"); !strings.Contains(l, "/dev/pts/") {
		t.Fatalf("replug: %q", l)
	}
	deadline := time.Now().Add(2 * time.Second)
	for r.Status(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("port did not come back after replug: %v", p.State())
		}
	}
	if l := say("scanner feed form 2"); l != "fed 2 × form" {
		t.Fatalf("scanner feed: %q", l)
	}
	if l := say("list"); !strings.HasPrefix(l, "idcard") {
		t.Fatalf("list: %q", l)
	}
	if l := say("nosuchdevice status"); !strings.HasPrefix(l, "error: no device") {
		// list printed one line per device; skip the others.
		for strings.Contains(l, "/dev/pts/") || strings.Contains(l, "unplugged") {
			l = readLine()
		}
		if !strings.HasPrefix(l, "error: no device") {
			t.Fatalf("unknown device: %q", l)
		}
	}
	io.WriteString(inW, "quit\n")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
