package faultproxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// backend counts requests and body bytes it managed to read.
type backend struct {
	requests atomic.Int64
	bodyRead atomic.Int64
	srv      *httptest.Server
}

func newBackend(t *testing.T) *backend {
	b := &backend{}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.requests.Add(1)
		n, _ := io.Copy(io.Discard, r.Body)
		b.bodyRead.Add(n)
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok "+r.URL.Path)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func newProxy(t *testing.T, b *backend) *Proxy {
	p, err := New(strings.TrimPrefix(b.srv.URL, "http://"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func get(c *http.Client, url string) (int, string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func TestPassThroughKeepsConnectionsAlive(t *testing.T) {
	b := newBackend(t)
	p := newProxy(t, b)
	c := &http.Client{}
	for i := 0; i < 5; i++ {
		status, body, err := get(c, p.URL()+"/x")
		if err != nil || status != 200 || body != "ok /x" {
			t.Fatalf("request %d: %d %q %v", i, status, body, err)
		}
	}
	st := p.Stats()
	if st.Conns != 1 || st.BytesUp == 0 || st.BytesDown == 0 || st.Faults != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRules(t *testing.T) {
	tests := []struct {
		name       string
		rule       *Rule
		wantStatus []int // per request; 0 = transport error
		backendHit int64
	}{
		{"503 burst of 2", &Rule{Match: "GET /a", Times: 2, Action: RespondWith(503, nil, "busy")}, []int{503, 503, 200}, 1},
		{"429 with Retry-After", &Rule{Times: 1, Action: RespondWith(429, map[string]string{"Retry-After": "1"}, "")}, []int{429, 200}, 1},
		{"HTML page", &Rule{Times: 1, Action: RespondWith(200, map[string]string{"Content-Type": "text/html"}, HTMLPage)}, []int{200, 200}, 1},
		{"rule for another path does nothing", &Rule{Match: "GET /b", Action: RespondWith(500, nil, "")}, []int{200, 200}, 2},
		{"lost response", &Rule{Match: "GET /a", Times: 1, Action: Action{Kind: LoseResponse}}, []int{0, 200}, 2},
		{"garbage", &Rule{Times: 1, Action: Action{Kind: Respond, Response: []byte("\x00\xffNOT HTTP AT ALL")}}, []int{0, 200}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBackend(t)
			p := newProxy(t, b)
			rule := p.Add(tc.rule)
			// No keep-alive so a lost response is not retried by net/http
			// on a fresh connection behind our back.
			c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			for i, want := range tc.wantStatus {
				status, body, err := get(c, p.URL()+"/a")
				if want == 0 {
					if err == nil {
						t.Fatalf("request %d: got %d %q, want a transport error", i, status, body)
					}
					continue
				}
				if err != nil || status != want {
					t.Fatalf("request %d: %d %v, want %d", i, status, err, want)
				}
				if want == 200 && strings.Contains(body, "<html>") != (tc.name == "HTML page" && i == 0) {
					t.Fatalf("request %d body %q", i, body)
				}
			}
			if got := b.requests.Load(); got != tc.backendHit {
				t.Fatalf("backend saw %d requests, want %d", got, tc.backendHit)
			}
			if tc.rule.Times > 0 && rule.Hits() != int64(tc.rule.Times) {
				t.Fatalf("rule hits %d", rule.Hits())
			}
		})
	}
}

func TestResetAfterCutsAtTheChosenByte(t *testing.T) {
	b := newBackend(t)
	p := newProxy(t, b)
	p.Add(&Rule{Match: "POST ", Times: 1, Action: Action{Kind: ResetAfter, After: 10000}})
	body := bytes.Repeat([]byte("x"), 100000)
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	_, err := c.Post(p.URL()+"/up", "application/octet-stream", bytes.NewReader(body))
	if err == nil {
		t.Fatal("upload through a cut link succeeded")
	}
	if got := p.Stats().BytesUp; got != 10000 {
		t.Fatalf("proxy forwarded %d bytes, want exactly 10000", got)
	}
	// The platform can read everything that crossed before the cut: the
	// body part of the first 10000 bytes.
	deadline := time.Now().Add(5 * time.Second)
	for b.requests.Load() == 0 || b.bodyRead.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("backend never saw the partial body")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := b.bodyRead.Load(); got <= 9000 || got >= 10000 {
		t.Fatalf("backend read %d body bytes of the 10000 forwarded", got)
	}
}

func TestStallHoldsTheConnectionOpen(t *testing.T) {
	b := newBackend(t)
	p := newProxy(t, b)
	p.Add(&Rule{Times: 1, Action: Action{Kind: Stall}})
	c := &http.Client{Timeout: 200 * time.Millisecond}
	_, _, err := get(c, p.URL()+"/s")
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if b.requests.Load() != 0 {
		t.Fatal("a stalled request reached the backend")
	}
	if status, _, err := get(&http.Client{}, p.URL()+"/s"); err != nil || status != 200 {
		t.Fatalf("after the stall: %d %v", status, err)
	}
}

func TestDownAndUp(t *testing.T) {
	b := newBackend(t)
	p := newProxy(t, b)
	c := &http.Client{}
	if _, _, err := get(c, p.URL()+"/1"); err != nil {
		t.Fatal(err)
	}
	p.SetDown(true)
	if _, _, err := get(c, p.URL()+"/2"); err == nil {
		t.Fatal("request through a down link succeeded")
	}
	p.SetDown(false)
	if status, _, err := get(c, p.URL()+"/3"); err != nil || status != 200 {
		t.Fatalf("after the link came back: %d %v", status, err)
	}
}

func TestCutEveryAndRate(t *testing.T) {
	b := newBackend(t)
	p := newProxy(t, b)
	p.CutEvery(64 << 10)
	p.SetRate(8 << 20)
	body := bytes.Repeat([]byte("y"), 40<<10)
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	var ok, failed int
	for i := 0; i < 6; i++ {
		resp, err := c.Post(p.URL()+"/up", "application/octet-stream", bytes.NewReader(body))
		if err != nil {
			failed++
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		ok++
	}
	// 6 × ~40 KiB through cuts every 64 KiB: some requests are cut, and
	// the link's byte count never passes a cut boundary without a reset.
	if failed == 0 || ok == 0 {
		t.Fatalf("ok=%d failed=%d", ok, failed)
	}
	if p.Stats().Faults != int64(failed) {
		t.Fatalf("faults %d, failed requests %d", p.Stats().Faults, failed)
	}
}

func TestRateLimitedLinkDeliversIntactData(t *testing.T) {
	var mu sync.Mutex
	var got []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = b
		mu.Unlock()
		w.Write(b)
	}))
	defer srv.Close()
	p, err := New(strings.TrimPrefix(srv.URL, "http://"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.SetRate(2 << 20)
	body := make([]byte, 256<<10)
	for i := range body {
		body[i] = byte(i * 7)
	}
	resp, err := http.Post(p.URL(), "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	echo, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	if !bytes.Equal(got, body) || !bytes.Equal(echo, body) {
		t.Fatal("data changed through the rate limiter")
	}
}

func TestBucketCancels(t *testing.T) {
	bk := newBucket(1000)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := bk.wait(ctx, bk.burst); err != nil {
		t.Fatalf("first burst: %v", err)
	}
	if err := bk.wait(ctx, bk.burst); !errors.Is(err, context.Canceled) {
		t.Fatalf("empty bucket: %v", err)
	}
}

func TestLooksLikeRequest(t *testing.T) {
	tests := map[string]bool{
		"GET / HTTP/1.1\r\n": true, "PATCH /api/v1/blobs/x HTTP/1.1": true, "HEAD /": true,
		"HTTP/1.1 200 OK": false, "\x89PNG": false, "": false, "GETX": false,
	}
	for in, want := range tests {
		if looksLikeRequest([]byte(in)) != want {
			t.Errorf("looksLikeRequest(%q) != %v", in, want)
		}
	}
}

func TestMatchable(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"POST / HTTP/1.1\r\nHost: x\r\n", false},
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", true},
		{"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab", false},
		{"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcde", true},
		{"PATCH / HTTP/1.1\r\nContent-Length: 99999\r\nExpect: 100-continue\r\n\r\n", true},
		{"POST / HTTP/1.1\r\ncontent-length: 20000\r\n\r\n" + strings.Repeat("z", 8<<10), true},
		{"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", true},
	}
	for _, tc := range tests {
		if got := matchable([]byte(tc.in)); got != tc.want {
			t.Errorf("matchable(%q) = %v", tc.in, got)
		}
	}
}

func TestRuleMatchesABodyWrittenAfterTheHead(t *testing.T) {
	b := newBackend(t)
	p := newProxy(t, b)
	rule := p.Add(&Rule{Match: `"receipt":"R-7"`, Action: RespondWith(503, nil, "")})
	conn, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"receipt":"R-7"}`
	io.WriteString(conn, "POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: "+itoa(len(body))+"\r\n\r\n")
	time.Sleep(50 * time.Millisecond) // the body arrives as a separate segment
	io.WriteString(conn, body)
	reply, _ := io.ReadAll(conn)
	if !strings.HasPrefix(string(reply), "HTTP/1.1 503") || rule.Hits() != 1 || b.requests.Load() != 0 {
		t.Fatalf("reply %q, hits %d, backend %d", reply, rule.Hits(), b.requests.Load())
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestLatencyDelaysEveryExchange: with a round-trip time set, each request
// over a kept-alive connection takes at least that long (a lower bound,
// never an upper one), the bytes arrive intact and in order in both
// directions, and faults still apply.
func TestLatencyDelaysEveryExchange(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	}))
	defer srv.Close()
	p, err := New(strings.TrimPrefix(srv.URL, "http://"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const rtt = 80 * time.Millisecond
	p.SetLatency(rtt)
	p.SetRate(4 << 20)
	body := make([]byte, 300<<10)
	for i := range body {
		body[i] = byte(i * 13)
	}
	c := &http.Client{}
	for i := 0; i < 4; i++ {
		start := time.Now()
		resp, err := c.Post(p.URL(), "application/octet-stream", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		echo, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(echo, body) {
			t.Fatalf("request %d: data changed through the delay line", i)
		}
		if took := time.Since(start); took < rtt {
			t.Fatalf("request %d answered in %v, under the round trip of %v", i, took, rtt)
		}
	}
	// The last answer's count may still be on its way into Stats.
	if st := p.Stats(); st.Conns != 1 || st.BytesUp < 4*300<<10 || st.BytesDown < 3*300<<10 {
		t.Fatalf("stats %+v", st)
	}
	lost := p.Add(&Rule{Match: "POST ", Times: 1, Action: Action{Kind: LoseResponse}})
	if _, err := c.Post(p.URL(), "text/plain", strings.NewReader("x")); err == nil || lost.Hits() != 1 {
		t.Fatalf("a lost answer under latency: err %v, hits %d", err, lost.Hits())
	}
	p.SetDown(true)
	if _, err := c.Post(p.URL(), "text/plain", strings.NewReader("x")); err == nil {
		t.Fatal("request through a link that is down")
	}
}
