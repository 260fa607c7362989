package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"onedoor/sync/api"
	"onedoor/sync/client"
	"onedoor/sync/faultproxy"
)

// The fault suite: one named test per fault between the engine and the real
// platform. Each ends with rig.verify: the platform's export equals what the
// kiosk issued, with no loss, no duplicate and every blob hash equal.

func TestFaultNone(t *testing.T) {
	eachPath(t, rigOpts{}, func(t *testing.T, o rigOpts, post string) {
		r := newRig(t, o)
		posts := r.proxy.Add(&faultproxy.Rule{Match: post, Action: faultproxy.Action{Kind: faultproxy.Pass}})
		r.enqueue(5, 64<<10, 2)
		r.runUntilDelivered(20 * time.Second)
		r.verify()
		if p := r.eng.Progress(); p.Sent != 5 || p.ItemsLeft != 0 || p.BytesLeft != 0 || posts.Hits() == 0 {
			t.Fatalf("progress %+v, %d requests %q", p, posts.Hits(), post)
		}
	})
}

func TestFaultResetMidUpload(t *testing.T) {
	tests := []struct {
		name  string
		after int64
		times int
	}{
		{"in the request head", 100, 1},
		{"early in the body", 4 << 10, 2},
		{"deep in the body", 700 << 10, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, rigOpts{})
			r.enqueue(2, 1<<20, 1)
			rule := r.proxy.Add(&faultproxy.Rule{Match: "PATCH /api/v1/blobs/", Times: tc.times,
				Action: faultproxy.Action{Kind: faultproxy.ResetAfter, After: tc.after}})
			r.runUntilDelivered(30 * time.Second)
			if rule.Hits() != int64(tc.times) {
				t.Fatalf("fault applied %d times, want %d", rule.Hits(), tc.times)
			}
			r.verify()
		})
	}
}

func TestFaultResponseLostAfterCommit(t *testing.T) {
	eachPath(t, rigOpts{}, func(t *testing.T, o rigOpts, post string) {
		r := newRig(t, o)
		r.enqueue(3, 10<<10, 1)
		// The platform commits the first submission (or batch) and its
		// answer vanishes, twice: the kiosk must get the same case
		// number, not a second case.
		rule := r.proxy.Add(&faultproxy.Rule{Match: post, Times: 2, Action: faultproxy.Action{Kind: faultproxy.LoseResponse}})
		r.runUntilDelivered(20 * time.Second)
		if rule.Hits() != 2 {
			t.Fatalf("hits %d", rule.Hits())
		}
		r.verify()
	})
}

func TestFaultResponseLostOnEveryInnerRetry(t *testing.T) {
	// More lost answers than the client's inner retries: the outer loop
	// takes over, and the platform still ends with one case.
	eachPath(t, rigOpts{clientMod: func(c *client.Config) { c.RetryMax = 1 }}, func(t *testing.T, o rigOpts, post string) {
		r := newRig(t, o)
		r.enqueue(1, 10<<10, 1)
		rule := r.proxy.Add(&faultproxy.Rule{Match: post, Times: 5, Action: faultproxy.Action{Kind: faultproxy.LoseResponse}})
		r.runUntilDelivered(20 * time.Second)
		// A batch lost on the way makes the next ones smaller; one
		// submission then goes alone (and is answered from what the lost
		// batch stored).
		want := int64(5)
		if strings.Contains(post, "batch") {
			want = 2
		}
		if rule.Hits() != want {
			t.Fatalf("hits %d, want %d", rule.Hits(), want)
		}
		r.verify()
	})
}

func Test5xxBurst(t *testing.T) {
	for _, status := range []int{500, 502, 503, 504} {
		t.Run(api.Version+"/"+itoa(status), func(t *testing.T) {
			eachPath(t, rigOpts{}, func(t *testing.T, o rigOpts, post string) {
				r := newRig(t, o)
				r.enqueue(3, 32<<10, 1)
				rule := r.proxy.Add(&faultproxy.Rule{Times: 12, Action: faultproxy.RespondWith(status, map[string]string{"Content-Type": "text/plain"}, "upstream trouble")})
				r.runUntilDelivered(20 * time.Second)
				if rule.Hits() != 12 {
					t.Fatalf("hits %d", rule.Hits())
				}
				r.verify()
			})
		})
	}
}

func TestFault429RetryAfter(t *testing.T) {
	eachPath(t, rigOpts{}, func(t *testing.T, o rigOpts, post string) {
		r := newRig(t, o)
		r.enqueue(2, 8<<10, 1)
		rule := r.proxy.Add(&faultproxy.Rule{Match: post, Times: 3,
			Action: faultproxy.RespondWith(429, map[string]string{"Retry-After": "1", "Content-Type": "application/json"}, `{"code":"rate_limited","message":"slow down"}`)})
		start := time.Now()
		r.runUntilDelivered(30 * time.Second)
		if rule.Hits() != 3 {
			t.Fatalf("hits %d", rule.Hits())
		}
		// Three 429s each asking for a second cannot all have been
		// honoured in less than a few seconds; this bounds from below,
		// never above.
		if el := time.Since(start); el < 2500*time.Millisecond {
			t.Fatalf("drained in %v: Retry-After was not honoured", el)
		}
		r.verify()
	})
}

func TestFaultStalledHalfOpenConnection(t *testing.T) {
	r := newRig(t, single(rigOpts{clientMod: func(c *client.Config) { c.IdleTimeout = 600 * time.Millisecond }}))
	r.enqueue(2, 256<<10, 1)
	ruleP := r.proxy.Add(&faultproxy.Rule{Match: "PATCH ", Times: 1, Action: faultproxy.Action{Kind: faultproxy.Stall}})
	ruleS := r.proxy.Add(&faultproxy.Rule{Match: "POST /api/v1/submissions", Times: 1, Action: faultproxy.Action{Kind: faultproxy.Stall}})
	r.runUntilDelivered(30 * time.Second)
	if ruleP.Hits() != 1 || ruleS.Hits() != 1 {
		t.Fatalf("hits %d %d", ruleP.Hits(), ruleS.Hits())
	}
	r.verify()
}

func TestFaultStalledBatch(t *testing.T) {
	r := newRig(t, rigOpts{clientMod: func(c *client.Config) { c.IdleTimeout = 600 * time.Millisecond }})
	r.enqueue(4, 30<<10, 1)
	rule := r.proxy.Add(&faultproxy.Rule{Match: "POST " + api.PathBatch, Times: 2, Action: faultproxy.Action{Kind: faultproxy.Stall}})
	r.runUntilDelivered(30 * time.Second)
	if rule.Hits() != 2 {
		t.Fatalf("hits %d", rule.Hits())
	}
	r.verify()
}

func TestFaultRateLimitedSlowLink(t *testing.T) {
	r := newRig(t, rigOpts{clientMod: func(c *client.Config) { c.IdleTimeout = 5 * time.Second }})
	r.proxy.SetRate(512 << 10) // 4 Mbit/s, shared by every connection
	r.enqueue(4, 256<<10, 2)
	r.runUntilDelivered(60 * time.Second)
	r.verify()
	st := r.proxy.Stats()
	if st.BytesUp < 4*256<<10 {
		t.Fatalf("only %d bytes crossed the link", st.BytesUp)
	}
}

func TestFaultGarbageAndHTMLBodies(t *testing.T) {
	const sub, batch = "POST " + api.PathSubmissions, "POST " + api.PathBatch
	json := map[string]string{"Content-Type": "application/json"}
	tests := []struct {
		name   string
		match  string
		action faultproxy.Action
	}{
		{"HTML 200 from a captive portal", sub, faultproxy.RespondWith(200, map[string]string{"Content-Type": "text/html"}, faultproxy.HTMLPage)},
		{"HTML 403 login page", "", faultproxy.RespondWith(403, map[string]string{"Content-Type": "text/html"}, faultproxy.HTMLPage)},
		{"truncated JSON 201", sub, faultproxy.RespondWith(201, json, `{"case_number":"DG-`)},
		{"JSON for another submission", sub, faultproxy.RespondWith(201, json, `{"case_number":"X-1","uuid":"00000000-0000-4000-8000-000000000000"}`)},
		{"not HTTP at all", "", faultproxy.Action{Kind: faultproxy.Respond, Response: []byte("\x16\x03\x01 garbage \xff\xfe")}},
		// A first upload skips the HEAD, so the garbage comes on PATCH
		// answers; every retry then asks with a HEAD (passed through).
		{"garbage Upload-Offset", "PATCH ", faultproxy.RespondWith(204, map[string]string{"Upload-Offset": "lots"}, "")},
		// The same on the batch path: nothing in a batch answer that
		// does not answer exactly the batch sent is taken as a verdict.
		{"batch: HTML 200 from a captive portal", batch, faultproxy.RespondWith(200, map[string]string{"Content-Type": "text/html"}, faultproxy.HTMLPage)},
		{"batch: truncated JSON", batch, faultproxy.RespondWith(200, json, `{"results":[{"key":"`)},
		{"batch: results for another batch", batch, faultproxy.RespondWith(200, json, `{"results":[{"key":"00000000-0000-4000-8000-000000000000","status":422,"body":{"code":"validation","message":"x"}}]}`)},
		{"batch: no results", batch, faultproxy.RespondWith(200, json, `{"results":[]}`)},
		{"batch: 400 for the whole batch", batch, faultproxy.RespondWith(400, json, `{"code":"bad_request","message":"proxy says no"}`)},
		{"batch: HTML 404 from a proxy", batch, faultproxy.RespondWith(404, map[string]string{"Content-Type": "text/html"}, faultproxy.HTMLPage)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := rigOpts{}
			if !strings.HasPrefix(tc.name, "batch") {
				o = single(o)
			}
			r := newRig(t, o)
			r.enqueue(2, 16<<10, 1)
			times := 5
			if strings.Contains(tc.name, "whole batch") || strings.Contains(tc.name, "404") {
				times = 1 // answered for good: the submissions go one by one
			}
			rule := r.proxy.Add(&faultproxy.Rule{Match: tc.match, Times: times, Action: tc.action})
			r.runUntilDelivered(20 * time.Second)
			if rule.Hits() != int64(times) {
				t.Fatalf("hits %d", rule.Hits())
			}
			r.verify()
			st, _ := r.store.Stats(context.Background())
			if st.Counts["rejected"] != 0 {
				t.Fatalf("a fake answer was taken as a verdict: %+v", st.Failed)
			}
		})
	}
}

func TestFaultPlatformRestartWithDataKept(t *testing.T) {
	r := newRig(t, single(rigOpts{}))
	const size = 768 << 10
	rc := r.enqueue(3, size, 1)
	second := r.promised[rc[1]].blobs[0]
	// A slow link so the restart lands in the middle of the second blob.
	r.proxy.SetRate(1 << 20)
	ctx, cancel := context.WithCancel(context.Background())
	done := r.eng.Start(ctx)
	waitFor(t, 20*time.Second, func() bool {
		off, started, err := r.plat.blobs.Offset(context.Background(), second)
		return err == nil && started && off > 64<<10 && off < size-64<<10
	})
	r.plat.stop()
	r.plat = startPlatform(t, r.plat.dir)
	// Read by the new platform before the link reaches it: what survived.
	held, _, _ := r.plat.blobs.Offset(context.Background(), second)
	r.proxy.SetTarget(r.plat.addr())
	r.proxy.ResetAll()
	waitFor(t, 30*time.Second, func() bool {
		st, _ := r.store.Stats(ctx)
		return st.Queued == 0
	})
	cancel()
	<-done
	r.verify()
	// The restarted platform still had the partial blob, so the upload
	// resumed: the link carried each blob about once, not the second one
	// twice.
	if up := r.proxy.Stats().BytesUp; up > 3*size+held/2 {
		t.Fatalf("link carried %d bytes for 3 blobs of %d with %d held at the restart: the upload restarted", up, size, held)
	}
}

func TestFaultLinkDownThenUp(t *testing.T) {
	r := newRig(t, rigOpts{})
	r.proxy.SetDown(true)
	r.enqueue(3, 8<<10, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := r.eng.Start(ctx)
	defer func() { cancel(); <-done }()
	waitFor(t, 10*time.Second, func() bool { return r.eng.Progress().State == StateOffline })
	st, _ := r.store.Stats(ctx)
	if st.Queued != 3 {
		t.Fatalf("queued %d while offline", st.Queued)
	}
	// While offline, items are not charged with growing backoff: when the
	// link returns they go at once.
	r.proxy.SetDown(false)
	waitFor(t, 10*time.Second, func() bool {
		st, _ := r.store.Stats(ctx)
		return st.Queued == 0
	})
	r.verify()
}

func TestPermanentRejectionDoesNotBlockTheQueue(t *testing.T) {
	r := newRig(t, single(rigOpts{}))
	rc := r.enqueue(3, 4<<10, 1)
	// The platform refuses the first submission for good (as it would a
	// validation failure); the other two must still go.
	rule := r.proxy.Add(&faultproxy.Rule{Match: `"receipt":"` + rc[0] + `"`, Action: faultproxy.RespondWith(422, map[string]string{"Content-Type": "application/json"},
		`{"code":"validation","message":"item_version: no longer offered"}`)})
	r.runUntilDelivered(20 * time.Second)
	if rule.Hits() != 1 {
		t.Fatalf("the rejected submission was sent %d times", rule.Hits())
	}
	rec, err := r.store.Lookup(context.Background(), rc[0])
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != "rejected" || rec.LastError == "" {
		t.Fatalf("record %+v", rec)
	}
	delete(r.promised, rc[0])
	r.verify()
}

func TestUnauthorizedKioskKeepsItsQueue(t *testing.T) {
	r := newRig(t, rigOpts{})
	r.enqueue(2, 4<<10, 1)
	bad, err := client.New(client.Config{BaseURL: r.proxy.URL(), KioskID: rigKiosk, Token: "not-the-token", RetryWaitMin: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r.eng.cfg.Platform = bad
	res := r.eng.Drain(context.Background())
	if !errors.Is(res.Err, client.ErrUnauthorized) || res.Left != 2 || res.Rejected != 0 {
		t.Fatalf("drain %+v", res)
	}
	if r.eng.Progress().State != StateAuthError {
		t.Fatalf("state %s", r.eng.Progress().State)
	}
	r.eng.cfg.Platform = r.client
	res = r.eng.Drain(context.Background())
	if res.Err != nil || res.Sent != 2 || res.Left != 0 {
		t.Fatalf("drain with the right token %+v", res)
	}
	r.verify()
}

func waitFor(t *testing.T, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func itoa(n int) string {
	return string(rune('0'+n/100)) + string(rune('0'+n/10%10)) + string(rune('0'+n%10))
}

func TestParallelSendersUnderFaults(t *testing.T) {
	eachPath(t, rigOpts{engineMod: func(c *Config) { c.Parallel = 4 }}, func(t *testing.T, o rigOpts, post string) {
		r := newRig(t, o)
		r.enqueue(20, 48<<10, 2)
		r.proxy.CutEvery(200 << 10)
		lost := r.proxy.Add(&faultproxy.Rule{Match: post, Times: 4, Action: faultproxy.Action{Kind: faultproxy.LoseResponse}})
		// Retried blobs are asked after with HEAD; a batch is retried whole.
		busyOn := "HEAD "
		if strings.Contains(post, "batch") {
			busyOn = post
		}
		busy := r.proxy.Add(&faultproxy.Rule{Match: busyOn, Times: 4, Action: faultproxy.RespondWith(503, nil, "")})
		r.runUntilDelivered(60 * time.Second)
		if lost.Hits() != 4 || busy.Hits() != 4 || r.proxy.Stats().Faults < 8 {
			t.Fatalf("faults applied: lost %d busy %d total %d", lost.Hits(), busy.Hits(), r.proxy.Stats().Faults)
		}
		r.verify()
	})
}

func TestKioskClockHoursOff(t *testing.T) {
	r := newRig(t, rigOpts{clientMod: func(c *client.Config) {
		c.Clock = func() time.Time { return time.Now().Add(-7 * time.Hour) }
	}})
	r.enqueue(2, 4<<10, 1)
	r.runUntilDelivered(20 * time.Second)
	r.verify()
}

func TestHeartbeatTeachesClockOffset(t *testing.T) {
	r := newRig(t, rigOpts{clientMod: func(c *client.Config) {
		c.Clock = func() time.Time { return time.Now().Add(-2 * time.Minute) } // inside the skew window
	}})
	res := r.eng.Drain(context.Background())
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if off := r.client.ClockOffset(); off < 2*time.Minute-5*time.Second || off > 2*time.Minute+5*time.Second {
		t.Fatalf("learned offset %v, want about 2m", off)
	}
}

func TestMissingBlobsAreUploadedAndTheSubmissionResent(t *testing.T) {
	r := newRig(t, single(rigOpts{}))
	rc := r.enqueue(1, 20<<10, 2)
	blob := r.promised[rc[0]].blobs[1]
	// The platform claims it lacks the second page (say it discarded a
	// partial upload); the engine must upload it and post again, not
	// reject the submission.
	body := `{"code":"missing_blobs","message":"1 blob(s) not uploaded","missing_blobs":["` + blob + `"]}`
	rule := r.proxy.Add(&faultproxy.Rule{Match: "POST /api/v1/submissions", Times: 1,
		Action: faultproxy.RespondWith(422, map[string]string{"Content-Type": "application/json"}, body)})
	heads := r.proxy.Add(&faultproxy.Rule{Match: "HEAD /api/v1/blobs/" + blob, Action: faultproxy.Action{Kind: faultproxy.Pass}})
	res := r.eng.Drain(context.Background())
	if res.Err != nil || res.Sent != 1 || rule.Hits() != 1 {
		t.Fatalf("drain %+v, hits %d", res, rule.Hits())
	}
	// The first upload of a never-tried blob skips the HEAD; after the
	// 422 the engine must ask where the platform stands.
	if heads.Hits() != 1 {
		t.Fatalf("the missing blob was checked %d times, want 1 (after the 422 only)", heads.Hits())
	}
	r.verify()
}

func TestFaultBlobResponseLostAfterCommit(t *testing.T) {
	r := newRig(t, single(rigOpts{}))
	r.enqueue(2, 300<<10, 1)
	// The platform stores the whole blob and its 204 vanishes: the kiosk
	// learns from HEAD that nothing is left to send.
	rule := r.proxy.Add(&faultproxy.Rule{Match: "PATCH ", Times: 2, Action: faultproxy.Action{Kind: faultproxy.LoseResponse}})
	r.runUntilDelivered(20 * time.Second)
	if rule.Hits() != 2 {
		t.Fatalf("hits %d", rule.Hits())
	}
	r.verify()
	if up := r.proxy.Stats().BytesUp; up > 2*(300<<10)+64<<10 {
		t.Fatalf("link carried %d bytes for two 300 KiB blobs: a completed blob was sent again", up)
	}
}

func TestFaultBlobCorruptedInTransit(t *testing.T) {
	r := newRig(t, single(rigOpts{}))
	r.enqueue(1, 100<<10, 1)
	// One byte of the body flipped on the way: the platform's hash check
	// refuses the blob (422 hash_mismatch) and discards it; the kiosk
	// must send it again, not give the submission up.
	rule := r.proxy.Add(&faultproxy.Rule{Match: "PATCH ", Times: 1, Action: faultproxy.Action{Kind: faultproxy.Corrupt, After: 50 << 10}})
	r.runUntilDelivered(20 * time.Second)
	if p := r.eng.Progress(); rule.Hits() != 1 || p.Retried != 1 || p.Rejected != 0 || !strings.Contains(p.LastError, "hash_mismatch") {
		t.Fatalf("hits %d, progress %+v", rule.Hits(), p)
	}
	r.verify()
}

// paths are the two ways a small submission travels: by itself (a PATCH
// per page, then POST /submissions) and in a batch (POST /batch with its
// pages). The fault tests that concern small submissions run on both.
var paths = []struct {
	name  string
	batch int
	post  string // the request head that carries the submission
}{
	{"single", 1, "POST " + api.PathSubmissions},
	{"batch", 16, "POST " + api.PathBatch},
}

// eachPath runs f once per path, with o's engine set to take it.
func eachPath(t *testing.T, o rigOpts, f func(t *testing.T, o rigOpts, post string)) {
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			po := o
			mod := o.engineMod
			po.engineMod = func(c *Config) {
				if mod != nil {
					mod(c)
				}
				c.Batch = p.batch
			}
			f(t, po, p.post)
		})
	}
}

// single is rigOpts whose engine sends every submission by itself: for
// the tests of the resumable blob upload.
func single(o rigOpts) rigOpts {
	mod := o.engineMod
	o.engineMod = func(c *Config) {
		if mod != nil {
			mod(c)
		}
		c.Batch = 1
	}
	return o
}
