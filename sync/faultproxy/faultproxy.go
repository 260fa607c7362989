// Package faultproxy is a fault-injecting TCP proxy for tests and
// benchmarks of the sync protocol on loopback. It sits between the kiosk's
// client and the platform and can, on command: reset a connection at a
// chosen byte of a request, lose a response after the platform has answered
// (and so committed), answer a request itself (5xx bursts, 429 with
// Retry-After, garbage, an HTML page), stall a connection half-open, cap the
// link's rate (one bucket shared by all connections, like a real uplink),
// add a fixed round-trip time (a village link's latency, independent of its
// rate), cut the link every N bytes, or take the link down altogether.
//
// It works on bytes, not on parsed HTTP, so it sees what a real link sees.
// Per-request faults find requests by a simple rule that holds for HTTP/1.1
// without pipelining (what Go's client speaks): bytes from the client that
// follow bytes from the server, or open a connection, and that start with a
// method name, begin a new request.
package faultproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Kind is what a Rule does to the requests it matches.
type Kind int

const (
	// Pass forwards the request untouched (a rule that only counts).
	Pass Kind = iota
	// Respond answers the request from the proxy with Action.Response and
	// closes the connection; the platform never sees the request.
	Respond
	// LoseResponse forwards the request, then drops the platform's answer
	// and resets the connection: the platform committed, the client never
	// hears of it.
	LoseResponse
	// Stall forwards nothing more in either direction but keeps both
	// sockets open: a half-open connection.
	Stall
	// ResetAfter forwards Action.After bytes of the request (head and
	// body counted together) and then resets both sides.
	ResetAfter
	// Corrupt flips the bits of byte Action.After of the request (head
	// and body counted together) on its way to the platform.
	Corrupt
)

// Action is what to do to a matched request.
type Action struct {
	Kind     Kind
	Response []byte // for Respond: the raw HTTP response
	After    int64  // for ResetAfter
}

// RespondWith builds a Respond action with a well-formed HTTP/1.1 response.
// The connection is closed after it, as a proxy or a dying server would.
func RespondWith(status int, header map[string]string, body string) Action {
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", status, statusText(status))
	for k, v := range header {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	return Action{Kind: Respond, Response: b.Bytes()}
}

func statusText(s int) string {
	switch s {
	case 200:
		return "OK"
	case 201:
		return "Created"
	case 429:
		return "Too Many Requests"
	case 500:
		return "Internal Server Error"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Unavailable"
	case 504:
		return "Gateway Timeout"
	}
	return "Status " + strconv.Itoa(s)
}

// Rule applies Action to the next Times requests whose head contains Match
// (e.g. "POST /api/v1/submissions"; empty matches every request). Times <= 0
// means every matching request until the rule is removed.
type Rule struct {
	Match  string
	Times  int
	Action Action

	hits atomic.Int64
	left atomic.Int64
}

// Hits is how many requests the rule has been applied to.
func (r *Rule) Hits() int64 { return r.hits.Load() }

// Stats counts what crossed the proxy.
type Stats struct {
	Conns     int64 // connections accepted
	BytesUp   int64 // client → platform bytes forwarded
	BytesDown int64 // platform → client bytes forwarded
	Faults    int64 // rule applications, cuts and resets done by the proxy
}

// Proxy is a running fault proxy. Its methods are safe for concurrent use.
type Proxy struct {
	ln  net.Listener
	log *slog.Logger

	mu       sync.Mutex
	target   string
	rules    []*Rule
	down     bool
	conns    map[*pipe]struct{}
	bucket   *bucket
	latency  time.Duration // one way: half the round-trip time
	cutEvery int64
	cutUp    int64 // upstream bytes counted toward the next cut
	hardCuts bool
	closed   bool

	conns64   atomic.Int64
	bytesUp   atomic.Int64
	bytesDown atomic.Int64
	faults    atomic.Int64
	wg        sync.WaitGroup
}

// New starts a proxy on a free loopback port forwarding to target
// (host:port).
func New(target string, log *slog.Logger) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Proxy{ln: ln, log: log, target: target, conns: map[*pipe]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL is http:// plus Addr.
func (p *Proxy) URL() string { return "http://" + p.Addr() }

// SetTarget points new connections at another address (a restarted
// platform on a new port).
func (p *Proxy) SetTarget(addr string) {
	p.mu.Lock()
	p.target = addr
	p.mu.Unlock()
}

// SetDown takes the link down (every open connection is reset and new ones
// are refused) or brings it back up.
func (p *Proxy) SetDown(down bool) {
	p.mu.Lock()
	p.down = down
	var open []*pipe
	if down {
		for c := range p.conns {
			open = append(open, c)
		}
	}
	p.mu.Unlock()
	for _, c := range open {
		c.reset()
	}
}

// SetRate caps the link at bytesPerSec in each direction, shared by all
// connections; 0 removes the cap.
func (p *Proxy) SetRate(bytesPerSec int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if bytesPerSec <= 0 {
		p.bucket = nil
		return
	}
	p.bucket = newBucket(bytesPerSec)
}

// SetLatency adds a fixed round-trip time: every byte reaches the other
// side rtt/2 after the link's rate let it go, in both directions, without
// slowing the rate (bytes in flight are held in a delay line, as on a long
// wire). It applies to connections opened afterwards; 0 removes it.
func (p *Proxy) SetLatency(rtt time.Duration) {
	p.mu.Lock()
	p.latency = max(rtt/2, 0)
	p.mu.Unlock()
}

// CutEvery resets the connection carrying the upload each time another n
// bytes have gone from client to platform; 0 turns it off.
func (p *Proxy) CutEvery(n int64) {
	p.mu.Lock()
	p.cutEvery, p.cutUp = n, 0
	p.mu.Unlock()
}

// SetHardCuts makes every cut reset the platform's side too. By default
// the platform sees a clean end of stream and can read every byte that
// crossed before the cut (a line that went quiet); with hard cuts its kernel
// throws away what the platform had not read yet, as after a reset from a
// NAT box. Benchmarks measure both.
func (p *Proxy) SetHardCuts(hard bool) {
	p.mu.Lock()
	p.hardCuts = hard
	p.mu.Unlock()
}

// Add installs a rule; rules are tried in the order added.
func (p *Proxy) Add(r *Rule) *Rule {
	r.left.Store(int64(r.Times))
	p.mu.Lock()
	p.rules = append(p.rules, r)
	p.mu.Unlock()
	return r
}

// ClearRules removes every rule; connections already stalled stay stalled
// until reset.
func (p *Proxy) ClearRules() {
	p.mu.Lock()
	p.rules = nil
	p.mu.Unlock()
}

// ResetAll resets every open connection (a link blip).
func (p *Proxy) ResetAll() {
	p.mu.Lock()
	var open []*pipe
	for c := range p.conns {
		open = append(open, c)
	}
	p.mu.Unlock()
	for _, c := range open {
		c.reset()
	}
}

// Stats returns the counters so far.
func (p *Proxy) Stats() Stats {
	return Stats{Conns: p.conns64.Load(), BytesUp: p.bytesUp.Load(), BytesDown: p.bytesDown.Load(), Faults: p.faults.Load()}
}

// Close stops the proxy and resets every connection.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	err := p.ln.Close()
	p.ResetAll()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.conns64.Add(1)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.serve(c)
		}()
	}
}

// match finds the action for a request whose head is head.
func (p *Proxy) match(head []byte) (Action, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.rules {
		if r.Match != "" && !bytes.Contains(head, []byte(r.Match)) {
			continue
		}
		if r.Times > 0 {
			if r.left.Add(-1) < 0 {
				continue
			}
		}
		r.hits.Add(1)
		if r.Action.Kind != Pass {
			p.faults.Add(1)
		}
		return r.Action, true
	}
	return Action{}, false
}

// cutBudget says how many of the next n upstream bytes may pass before a
// CutEvery boundary (n when no cut is due), and records them.
func (p *Proxy) cutBudget(n int64) (int64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cutEvery <= 0 {
		return n, false
	}
	room := p.cutEvery - p.cutUp
	if n < room {
		p.cutUp += n
		return n, false
	}
	p.cutUp = 0
	p.faults.Add(1)
	return room, true
}

func (p *Proxy) currentBucket() *bucket {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bucket
}

func (p *Proxy) serve(client net.Conn) {
	p.mu.Lock()
	down, target, closed, latency := p.down, p.target, p.closed, p.latency
	p.mu.Unlock()
	if down || closed {
		rst(client)
		return
	}
	server, err := net.DialTimeout("tcp", target, 5*time.Second)
	if err != nil {
		p.log.Debug("faultproxy: dial platform failed", "err", err)
		rst(client)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &pipe{p: p, client: client, server: server, ctx: ctx, cancel: cancel, fresh: true}
	if latency > 0 {
		c.toServer = c.newLine(server, &p.bytesUp, latency)
		c.toClient = c.newLine(client, &p.bytesDown, latency)
	}
	p.mu.Lock()
	if p.closed || p.down {
		p.mu.Unlock()
		c.reset()
		return
	}
	p.conns[c] = struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.downstream()
	}()
	c.upstream()
	<-done
	c.toServer.flush()
	c.toClient.flush()
	c.closeGracefully()
}

// pipe is one proxied connection.
type pipe struct {
	p              *Proxy
	client, server net.Conn
	ctx            context.Context
	cancel         context.CancelFunc

	mu       sync.Mutex
	fresh    bool   // next upstream bytes may start a request
	pending  []byte // start of a request, held until it can be matched
	action   Action
	reqBytes int64
	stalled  bool
	lose     bool
	dead     bool

	// With latency, what goes to each side waits in a delay line.
	toServer, toClient *delayLine
}

// delayLine delivers bytes to one side of a pipe a fixed time after they
// were sent, in order, from its own goroutine, so the sender is never held
// up by the delay itself (only by the rate and by backpressure).
type delayLine struct {
	ch   chan delayed
	done chan struct{}
}

type delayed struct {
	b          []byte
	at         time.Time
	closeWrite bool
}

func (c *pipe) newLine(w net.Conn, counter *atomic.Int64, delay time.Duration) *delayLine {
	l := &delayLine{ch: make(chan delayed, 1024), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for d := range l.ch {
			if wait := time.Until(d.at.Add(delay)); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-c.ctx.Done():
					t.Stop()
					for range l.ch { // the sender may still queue; let it
					}
					return
				case <-t.C:
				}
			}
			if d.closeWrite {
				closeWrite(w)
				continue
			}
			m, err := w.Write(d.b)
			counter.Add(int64(m))
			if err != nil {
				c.reset()
			}
		}
	}()
	return l
}

// send queues b (copied) for delivery; it fails once the pipe is reset.
func (l *delayLine) send(ctx context.Context, d delayed) error {
	select {
	case l.ch <- d:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flush delivers what is queued and stops the line; nil is a no-op.
func (l *delayLine) flush() {
	if l == nil {
		return
	}
	close(l.ch)
	<-l.done
}

func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
}

// line is the delay line toward w, nil without latency.
func (c *pipe) line(w net.Conn) *delayLine {
	if w == c.server {
		return c.toServer
	}
	return c.toClient
}

// halfClose passes on an end of stream toward w, after the bytes before it.
func (c *pipe) halfClose(w net.Conn) {
	if l := c.line(w); l != nil {
		l.send(c.ctx, delayed{at: time.Now(), closeWrite: true})
		return
	}
	closeWrite(w)
}

var methods = []string{"GET ", "HEAD ", "POST ", "PUT ", "PATCH ", "DELETE ", "OPTIONS "}

func looksLikeRequest(b []byte) bool {
	for _, m := range methods {
		if bytes.HasPrefix(b, []byte(m)) {
			return true
		}
	}
	return false
}

// matchable reports whether b, the start of a request, holds its whole
// head and, unless the client waits for 100 Continue, the first 8 KiB of
// its body (or all of it if shorter).
func matchable(b []byte) bool {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		return len(b) > 64<<10 // not HTTP as we know it; stop waiting
	}
	var length int64
	for _, line := range strings.Split(string(b[:end]), "\r\n")[1:] {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "content-length":
			length, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		case "expect":
			if strings.EqualFold(strings.TrimSpace(v), "100-continue") {
				return true
			}
		}
	}
	return int64(len(b)-end-4) >= min(length, 8<<10)
}

func (c *pipe) reset() {
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return
	}
	c.dead = true
	c.mu.Unlock()
	c.cancel()
	rst(c.client)
	c.p.mu.Lock()
	hard := c.p.hardCuts
	c.p.mu.Unlock()
	if hard {
		rst(c.server)
		return
	}
	// The platform gets a clean end of stream: bytes that crossed the link
	// before the cut stay readable on its side, as they would on a real
	// line that went dead, instead of being discarded by a reset.
	c.server.Close()
}

func (c *pipe) closeGracefully() {
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return
	}
	c.dead = true
	c.mu.Unlock()
	c.cancel()
	c.client.Close()
	c.server.Close()
}

// rst closes with SO_LINGER 0 so the peer sees a reset, not a clean FIN.
func rst(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

func (c *pipe) upstream() {
	buf := make([]byte, 32<<10)
	for {
		n, err := c.client.Read(buf)
		if n > 0 {
			if !c.up(buf[:n]) {
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				// Half-close toward the platform; let its answer come back.
				c.halfClose(c.server)
				return
			}
			c.reset()
			return
		}
	}
}

// up handles one chunk from the client; false ends the connection.
func (c *pipe) up(chunk []byte) bool {
	c.mu.Lock()
	if c.fresh && looksLikeRequest(chunk) {
		c.pending = []byte{}
	}
	c.fresh = false
	if c.pending != nil {
		// Rules may match on the head or the start of the body, which a
		// client can write in separate segments: hold the request until
		// enough of it is here to decide.
		c.pending = append(c.pending, chunk...)
		if !matchable(c.pending) {
			c.mu.Unlock()
			return true
		}
		chunk, c.pending = c.pending, nil
		c.action, _ = c.p.match(chunk)
		c.reqBytes = 0
		c.lose = c.action.Kind == LoseResponse
		if c.action.Kind == Stall {
			c.stalled = true
		}
	}
	act, stalled := c.action, c.stalled
	c.mu.Unlock()

	switch {
	case stalled:
		return true // swallow: the client believes it is sending
	case act.Kind == Respond:
		c.client.Write(act.Response)
		c.closeGracefully()
		return false
	case act.Kind == ResetAfter:
		c.mu.Lock()
		room := act.After - c.reqBytes
		c.reqBytes += int64(len(chunk))
		c.mu.Unlock()
		if room < int64(len(chunk)) {
			if room > 0 {
				c.forward(c.server, chunk[:room], &c.p.bytesUp)
			}
			c.reset()
			return false
		}
	case act.Kind == Corrupt:
		c.mu.Lock()
		at := act.After - c.reqBytes
		c.reqBytes += int64(len(chunk))
		c.mu.Unlock()
		if at >= 0 && at < int64(len(chunk)) {
			chunk = append([]byte(nil), chunk...)
			chunk[at] ^= 0xff
		}
	}
	allowed, cut := c.p.cutBudget(int64(len(chunk)))
	if err := c.forward(c.server, chunk[:allowed], &c.p.bytesUp); err != nil {
		c.reset()
		return false
	}
	if cut {
		c.reset()
		return false
	}
	return true
}

func (c *pipe) downstream() {
	buf := make([]byte, 32<<10)
	for {
		n, err := c.server.Read(buf)
		if n > 0 {
			c.mu.Lock()
			c.fresh = true
			lose, stalled := c.lose, c.stalled
			c.mu.Unlock()
			if lose {
				c.reset()
				return
			}
			if !stalled {
				if werr := c.forward(c.client, buf[:n], &c.p.bytesDown); werr != nil {
					c.reset()
					return
				}
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				c.mu.Lock()
				stalled := c.stalled
				c.mu.Unlock()
				if !stalled {
					c.halfClose(c.client)
				}
				return
			}
			c.reset()
			return
		}
	}
}

// forward writes b to w through the shared rate bucket, and the delay line
// when the link has latency.
func (c *pipe) forward(w net.Conn, b []byte, counter *atomic.Int64) error {
	line := c.line(w)
	for len(b) > 0 {
		n := len(b)
		if bk := c.p.currentBucket(); bk != nil {
			if n > bk.burst {
				n = bk.burst
			}
			if err := bk.wait(c.ctx, n); err != nil {
				return err
			}
		}
		if line != nil {
			if err := line.send(c.ctx, delayed{b: bytes.Clone(b[:n]), at: time.Now()}); err != nil {
				return err
			}
			b = b[n:]
			continue
		}
		m, err := w.Write(b[:n])
		counter.Add(int64(m))
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// bucket is a token bucket over real time: the proxy models a physical
// link, so it paces with the wall clock.
type bucket struct {
	rate   float64
	burst  int
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func newBucket(bytesPerSec int64) *bucket {
	burst := int(bytesPerSec / 20) // 50 ms of traffic
	if burst < 512 {
		burst = 512
	}
	return &bucket{rate: float64(bytesPerSec), burst: burst, tokens: float64(burst), last: time.Now()}
}

func (b *bucket) wait(ctx context.Context, n int) error {
	// Reserve first, then sleep off the debt: waiters are served in the
	// order they arrived, so one connection cannot starve the others.
	b.mu.Lock()
	now := time.Now()
	b.tokens += now.Sub(b.last).Seconds() * b.rate
	if b.tokens > float64(b.burst) {
		b.tokens = float64(b.burst)
	}
	b.last = now
	b.tokens -= float64(n)
	var d time.Duration
	if b.tokens < 0 {
		d = time.Duration(-b.tokens / b.rate * float64(time.Second))
	}
	b.mu.Unlock()
	if d == 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// HTMLPage is a captive-portal style answer for "garbage and HTML bodies"
// tests.
const HTMLPage = "<!DOCTYPE html><html><head><title>登录</title></head><body>请先登录上网认证</body></html>"

// IsHTTPResponse reports whether b starts like an HTTP/1.x status line; a
// helper for tests that build raw responses.
func IsHTTPResponse(b []byte) bool { return strings.HasPrefix(string(b), "HTTP/1.") }
