package platform_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"onedoor/sync/platform"
)

// serveLikePlatformd puts e's handler behind the http.Server platformd
// uses, on a loopback listener.
func (e *env) serveLikePlatformd() {
	e.t.Helper()
	e.http.Close()
	ts := httptest.NewUnstartedServer(e.server)
	ts.Config = platform.NewHTTPServer(e.server, nil)
	ts.Start()
	e.http = ts
}

// TestSlowClientsCostNothing: 500 connections that send headers (or part
// of them) and then stall are all closed by the server within 10 s, and a
// kiosk's submission meanwhile is answered in under 1 s.
func TestSlowClientsCostNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("holds 500 connections for several seconds")
	}
	e := newEnv(t, t.TempDir(), "K1")
	e.serveLikePlatformd()
	addr := e.http.Listener.Addr().String()
	stalls := []string{
		// JSON endpoint, body announced, one byte sent.
		"POST /api/v1/submissions HTTP/1.1\r\nHost: p\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{",
		// Staff login form, body stalls.
		"POST /login HTTP/1.1\r\nHost: p\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nuser=",
		// Unsigned blob PATCH, no body.
		"PATCH /api/v1/blobs/" + fmt.Sprintf("%064x", 1) + " HTTP/1.1\r\nHost: p\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: 1000\r\n\r\n",
		// Headers never finished.
		"GET /office/ HTTP/1.1\r\nHost: p\r\nX-Slow: ",
	}
	const n = 500
	start := time.Now()
	type outcome struct {
		kind  int
		after time.Duration
		err   error
	}
	done := make(chan outcome, n)
	for i := range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, stalls[i%len(stalls)]); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		go func() {
			// Our own bound: the test never waits more than 20 s.
			c.SetReadDeadline(start.Add(20 * time.Second))
			_, err := io.Copy(io.Discard, c)
			done <- outcome{i % len(stalls), time.Since(start), err}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	t0 := time.Now()
	r := e.submit("K1", newSubmission("K1", 1))
	lat := time.Since(t0)
	if r.code != http.StatusCreated || lat > time.Second {
		t.Errorf("kiosk submission among %d stalled connections: %d in %v %s", n, r.code, lat, r.body)
	}
	var worst time.Duration
	for range n {
		o := <-done
		if o.err != nil && errors.Is(o.err, os.ErrDeadlineExceeded) {
			t.Fatalf("connection of kind %d still open after 20 s", o.kind)
		}
		worst = max(worst, o.after)
	}
	if worst > 10*time.Second {
		t.Errorf("last stalled connection closed after %v, want within 10 s", worst)
	}
	t.Logf("%d stalled connections all closed within %v; kiosk submission answered in %v", n, worst.Round(time.Millisecond), lat.Round(time.Millisecond))
}

// TestOversizeRefusedAtOnce: a declared Content-Length over the endpoint's
// limit is answered before any body byte is sent.
func TestOversizeRefusedAtOnce(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	for _, head := range []string{
		"POST /api/v1/submissions HTTP/1.1\r\nHost: p\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n",
		"POST /api/v1/heartbeat HTTP/1.1\r\nHost: p\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n",
		"POST /login HTTP/1.1\r\nHost: p\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 2000000\r\n\r\n",
	} {
		c, err := net.Dial("tcp", e.http.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, head)
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 12)
		_, err = io.ReadFull(c, buf)
		c.Close()
		if err != nil || string(buf) != "HTTP/1.1 413" {
			t.Errorf("%q: answered %q %v before the body, want 413", head[:30], buf, err)
		}
	}
}

// TestStalledPatchIsRetryable: a signed PATCH whose body stalls gets 408
// timeout (retried by kiosks), not 400 (a permanent rejection), and the
// bytes that arrived are kept.
func TestStalledPatchIsRetryable(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	e.idle = 500 * time.Millisecond
	e.stop()
	e.start(nil)
	data := make([]byte, 4096)
	for i := range data {
		data[i] = byte(i)
	}
	sha := shaHex(data)
	pr, pw := io.Pipe()
	hr := e.build(req{method: "PATCH", path: "/api/v1/blobs/" + sha, contentHash: "UNSIGNED-PAYLOAD", header: patchHdr(0, len(data))})
	hr.Body = pr
	hr.ContentLength = int64(len(data))
	go func() {
		pw.Write(data[:1000])
		time.Sleep(3 * time.Second) // stalls well past the idle limit
		pw.Close()
	}()
	r := e.send(hr)
	if r.code != http.StatusRequestTimeout || r.errCode(t).Code != "timeout" {
		t.Fatalf("stalled PATCH = %d %s", r.code, r.body)
	}
	if h := e.do(req{method: "HEAD", path: "/api/v1/blobs/" + sha}); h.header.Get("Upload-Offset") != "1000" {
		t.Fatalf("HEAD after the stall = %d %v", h.code, h.header)
	}
}

// TestPhoneStalledFormNot500: a lookup form on the residents' phone page
// whose body stalls is answered 408 with the page (no wrong code counted),
// not 500 from looking the case up on a request whose connection is gone.
func TestPhoneStalledFormNot500(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	e.serveLikePlatformd()
	sub := newSubmission("K1", 1)
	if r := e.submit("K1", sub); r.code != http.StatusCreated {
		t.Fatalf("submit: %d %s", r.code, r.body)
	}
	c, err := net.Dial("tcp", e.http.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "POST /m/"+sub.Receipt+" HTTP/1.1\r\nHost: p\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ncode="); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to the stalled form: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), "表单没有完整送达") {
		t.Fatalf("stalled phone form = %d %s", res.StatusCode, b)
	}
}
