package platform_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"onedoor/sync/api"
	"onedoor/sync/platform"
)

// batchOf encodes subs (their JSON as POST /submissions would carry it)
// and blobs as one batch body.
func batchOf(t testing.TB, blobs [][]byte, subs ...api.SubmissionRequest) []byte {
	t.Helper()
	var b api.Batch
	for _, d := range blobs {
		b.Blobs = append(b.Blobs, api.BatchBlob{SHA256: shaHex(d), Data: d})
	}
	for _, s := range subs {
		j, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		b.Submissions = append(b.Submissions, api.BatchSubmission{Key: s.UUID, Body: j})
	}
	body, err := api.AppendBatch(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func (e *env) postBatch(kiosk string, body []byte) resp {
	e.t.Helper()
	return e.do(req{method: "POST", path: api.PathBatch, body: body, kiosk: kiosk, header: map[string]string{"Content-Type": api.ContentTypeBatch}})
}

func batchResults(t *testing.T, r resp, n int) []api.BatchResult {
	t.Helper()
	if r.code != http.StatusOK {
		t.Fatalf("batch: %d %s", r.code, r.body)
	}
	var br api.BatchResponse
	if err := json.Unmarshal(r.body, &br); err != nil || len(br.Results) != n {
		t.Fatalf("batch answer %s (%v), want %d results", r.body, err, n)
	}
	return br.Results
}

func page(seed string, n int) []byte {
	return bytes.Repeat([]byte(seed), n/len(seed)+1)[:n]
}

// TestBatchExactlyOnce: a batch stores its blobs (completing one an earlier
// PATCH left half done, and one another submission shares), takes every
// submission with a case number, and answers each as POST /submissions
// would: the same batch again, or one of its submissions alone, gets the
// same bytes; another body under a used key is a conflict for that item
// only.
func TestBatchExactlyOnce(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	p1, p2, p3 := page("page one ", 40<<10), page("second page ", 70<<10), page("third ", 3000)
	// Half of p2 arrived by PATCH before the link dropped.
	half := e.do(req{method: "PATCH", path: api.PathBlobs + shaHex(p2), body: p2[:len(p2)/2], kiosk: "K1", contentHash: api.UnsignedPayload,
		header: map[string]string{"Content-Type": api.ContentTypeOffset, api.HeaderUploadOffset: "0", api.HeaderUploadLength: fmt.Sprint(len(p2))}})
	if half.code != http.StatusNoContent {
		t.Fatalf("half upload: %d %s", half.code, half.body)
	}
	s1, s2, s3 := newSubmission("K1", 1, p1), newSubmission("K1", 2, p2, p3), newSubmission("K1", 3, p3)
	body := batchOf(t, [][]byte{p1, p2, p3}, s1, s2, s3)
	first := batchResults(t, e.postBatch("K1", body), 3)
	cases := map[string]bool{}
	for i, r := range first {
		var sr api.SubmissionResponse
		if r.Status != http.StatusCreated || json.Unmarshal(r.Body, &sr) != nil || sr.CaseNumber == "" || r.Key != []string{s1.UUID, s2.UUID, s3.UUID}[i] {
			t.Fatalf("item %d: %+v", i, r)
		}
		cases[sr.CaseNumber] = true
	}
	if len(cases) != 3 {
		t.Fatalf("case numbers %v", cases)
	}
	for _, p := range [][]byte{p1, p2, p3} {
		f, err := e.blobs.Open(context.Background(), shaHex(p))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		io.Copy(h, f)
		f.Close()
		if hex.EncodeToString(h.Sum(nil)) != shaHex(p) {
			t.Fatalf("blob %.12s stored wrong", shaHex(p))
		}
	}
	// The answer was lost: the same batch again.
	again := batchResults(t, e.postBatch("K1", body), 3)
	for i := range first {
		if again[i].Status != first[i].Status || !bytes.Equal(again[i].Body, first[i].Body) {
			t.Fatalf("replay of item %d: %+v, first %+v", i, again[i], first[i])
		}
	}
	// The kiosk falls back to the single endpoint for one of them.
	alone := e.submit("K1", s2)
	if alone.code != http.StatusCreated || !bytes.Equal(bytes.TrimSpace(alone.body), first[1].Body) {
		t.Fatalf("single replay: %d %s, batch gave %s", alone.code, alone.body, first[1].Body)
	}
	// One submission comes in the other way round: alone first, then in a batch.
	s4 := newSubmission("K1", 4, p1)
	single := e.submit("K1", s4)
	changed := s1
	changed.Form = map[string]string{"reason": "changed"}
	mixed := batchResults(t, e.postBatch("K1", batchOf(t, nil, s4, changed)), 2)
	if mixed[0].Status != http.StatusCreated || !bytes.Equal(mixed[0].Body, bytes.TrimSpace(single.body)) {
		t.Fatalf("batch replay of a single submission: %+v, alone %s", mixed[0], single.body)
	}
	if mixed[1].Status != http.StatusConflict || !strings.Contains(string(mixed[1].Body), api.CodeIdempotencyConflict) {
		t.Fatalf("changed body under a used key: %+v", mixed[1])
	}
	n := 0
	e.store.Export(context.Background(), func(platform.ExportRow) error { n++; return nil })
	if n != 4 {
		t.Fatalf("platform holds %d submissions, want 4", n)
	}
}

// TestBatchHostileInput: what the single endpoints refuse, a batch refuses
// item by item (another kiosk's identifiers, invalid UTF-8, a page that does
// not hash to its address), and a body that is not a batch, too large, or
// not signed is refused whole, with the protocol's error body.
func TestBatchHostileInput(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1", "K2")
	good := newSubmission("K1", 1)
	other := newSubmission("K2", 2) // another kiosk's id and receipt, signed by K1
	bad := page("forged ", 1000)
	forged := newSubmission("K1", 3, bad)
	forgedBody := batchOf(t, nil, forged)
	// The blob part claims bad's address but carries other bytes.
	var fb api.Batch
	fb.Blobs = []api.BatchBlob{{SHA256: shaHex(bad), Data: page("something else ", 1000)}}
	fb.Submissions = []api.BatchSubmission{{Key: forged.UUID, Body: forgedBody[len(api.BatchMagic)+5+36:]}}
	forgedBatch, _ := api.AppendBatch(nil, fb)
	utf := newSubmission("K1", 4)
	utfJSON, _ := json.Marshal(utf)
	utfJSON = bytes.Replace(utfJSON, []byte("测试人"), []byte("\xff\xfe"), 1)
	utfBatch, _ := api.AppendBatch(nil, api.Batch{Submissions: []api.BatchSubmission{{Key: utf.UUID, Body: utfJSON}}})

	items := []struct {
		name string
		body []byte
		n    int
		code string
	}{
		{"another kiosk's submission", batchOf(t, nil, good, other), 2, api.CodeValidation},
		{"a page that does not hash to its address", forgedBatch, 1, api.CodeMissingBlobs},
		{"invalid UTF-8", utfBatch, 1, api.CodeValidation},
	}
	for _, tc := range items {
		t.Run(tc.name, func(t *testing.T) {
			rs := batchResults(t, e.postBatch("K1", tc.body), tc.n)
			last := rs[len(rs)-1]
			if last.Status != http.StatusUnprocessableEntity || !strings.Contains(string(last.Body), `"code":"`+tc.code+`"`) {
				t.Fatalf("item answer %+v", last)
			}
		})
	}
	if ok, _, _ := e.blobs.Complete(context.Background(), shaHex(bad)); ok {
		t.Fatal("a forged page was kept")
	}

	dup := batchOf(t, nil, good)
	dup = append(dup, dup[len(api.BatchMagic):]...)
	many := api.Batch{}
	for i := 0; i <= api.MaxBatchSubmissions; i++ {
		s := newSubmission("K1", 100+i)
		many.Submissions = append(many.Submissions, api.BatchSubmission{Key: s.UUID, Body: []byte("{}")})
	}
	manyBody, _ := api.AppendBatch(nil, many)
	whole := []struct {
		name   string
		r      req
		status int
	}{
		{"not a batch", req{body: []byte(`{"uuid":"x"}`)}, 400},
		{"cut short", req{body: batchOf(t, nil, good)[:40]}, 400},
		{"the same key twice", req{body: dup}, 400},
		{"too many submissions", req{body: manyBody}, 400},
		{"JSON content type", req{body: batchOf(t, nil, good), header: map[string]string{"Content-Type": "application/json"}}, 415},
		{"signed by an unknown kiosk", req{body: batchOf(t, nil, good), kiosk: "K9"}, 401},
		{"body hash not the signed one", req{body: batchOf(t, nil, good), contentHash: api.BodySHA256([]byte("x"))}, 401},
		{"unsigned payload", req{body: batchOf(t, nil, good), contentHash: api.UnsignedPayload}, 401},
		{"over the size limit", req{body: make([]byte, api.MaxBatchBytes+1)}, 413},
	}
	for _, tc := range whole {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.r
			r.method, r.path = "POST", api.PathBatch
			if r.header == nil {
				r.header = map[string]string{"Content-Type": api.ContentTypeBatch}
			}
			if r.kiosk == "" {
				r.kiosk = "K1"
			}
			got := e.do(r)
			if got.code != tc.status || got.errCode(t).Code == "" {
				t.Fatalf("answer %d %s, want %d", got.code, got.body, tc.status)
			}
		})
	}
	n := 0
	e.store.Export(context.Background(), func(platform.ExportRow) error { n++; return nil })
	if n != 1 {
		t.Fatalf("platform holds %d submissions, want only the good one", n)
	}
}

// TestBatchStalledBody: a batch body that stops coming is cut with 408
// after the body idle timeout, and nothing of it is taken.
func TestBatchStalledBody(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	e.serveLikePlatformd()
	body := batchOf(t, [][]byte{page("stalled ", 50<<10)}, newSubmission("K1", 1, page("stalled ", 50<<10)))
	hr := e.build(req{method: "POST", path: api.PathBatch, body: body, header: map[string]string{"Content-Type": api.ContentTypeBatch}})
	c, err := net.Dial("tcp", e.http.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var head bytes.Buffer
	hr.Body = io.NopCloser(bytes.NewReader(body[:len(body)/2]))
	hr.Write(&head) // writes the head and half the body, with the whole Content-Length
	if _, err := c.Write(head.Bytes()); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(30 * time.Second)) // the test's own bound
	res, err := http.ReadResponse(bufio.NewReader(c), hr)
	if err != nil {
		t.Fatalf("no answer to a stalled batch: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("stalled batch answered %d", res.StatusCode)
	}
	n := 0
	e.store.Export(context.Background(), func(platform.ExportRow) error { n++; return nil })
	if n != 0 {
		t.Fatalf("a stalled batch stored %d submissions", n)
	}
}

// FuzzBatchBody posts arbitrary signed bodies to POST /api/v1/batch through
// the whole handler and store: the answer is 200 with one result per
// submission part (each 201 with a case or a 4xx with a JSON error), or a
// 4xx with a JSON error; never a 5xx or a panic.
func FuzzBatchBody(f *testing.F) {
	p := page("fuzz page ", 2000)
	f.Add(batchOf(f, [][]byte{p}, newSubmission("K1", 1, p)))
	f.Add(batchOf(f, nil, newSubmission("K1", 2), newSubmission("K1", 3)))
	f.Add([]byte(api.BatchMagic + "S\x00\x00\x00\x02{}"))
	f.Add([]byte(api.BatchMagic + "B\xff\xff\xff\xff"))
	e := newEnv(f, f.TempDir(), "K1")
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", api.PathBatch, bytes.NewReader(body))
		r.Header.Set("Content-Type", api.ContentTypeBatch)
		nonce, _ := api.NewNonce()
		api.Sign(r, "K1", e.tokens["K1"], api.BodySHA256(body), time.Now(), nonce)
		w := httptest.NewRecorder()
		e.server.ServeHTTP(w, r)
		switch {
		case w.Code == http.StatusOK:
			parsed, err := api.ParseBatch(body)
			if err != nil {
				t.Fatalf("200 for a body the parser refuses: %v", err)
			}
			var br api.BatchResponse
			if err := json.Unmarshal(w.Body.Bytes(), &br); err != nil || len(br.Results) != len(parsed.Submissions) {
				t.Fatalf("answer %s for %d submissions", w.Body, len(parsed.Submissions))
			}
			for i, res := range br.Results {
				if res.Key != parsed.Submissions[i].Key {
					t.Fatalf("result %d for key %s, sent %s", i, res.Key, parsed.Submissions[i].Key)
				}
				checkItem(t, res)
			}
		case w.Code >= 400 && w.Code < 500:
			var er api.ErrorResponse
			if err := json.Unmarshal(w.Body.Bytes(), &er); err != nil || er.Code == "" {
				t.Fatalf("%d without a JSON error: %s", w.Code, w.Body)
			}
		default:
			t.Fatalf("answer %d: %s", w.Code, w.Body)
		}
	})
}

func checkItem(t *testing.T, res api.BatchResult) {
	t.Helper()
	switch {
	case res.Status == http.StatusCreated:
		var sr api.SubmissionResponse
		if err := json.Unmarshal(res.Body, &sr); err != nil || sr.CaseNumber == "" {
			t.Fatalf("201 without a case: %s", res.Body)
		}
	case res.Status >= 400 && res.Status < 500:
		var er api.ErrorResponse
		if err := json.Unmarshal(res.Body, &er); err != nil || er.Code == "" {
			t.Fatalf("item %d without a JSON error: %s", res.Status, res.Body)
		}
	default:
		t.Fatalf("item answer %d: %s", res.Status, res.Body)
	}
}

// FuzzParseBatch: whatever the bytes, ParseBatch does not panic, what it
// accepts is within the limits, and encoding it again gives the same bytes.
func FuzzParseBatch(f *testing.F) {
	p := page("fuzz page ", 2000)
	f.Add(batchOf(f, [][]byte{p}, newSubmission("K1", 1, p)))
	f.Add([]byte(api.BatchMagic))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := api.ParseBatch(body)
		if err != nil {
			return
		}
		if len(b.Submissions) == 0 || len(b.Submissions) > api.MaxBatchSubmissions || len(b.Blobs) > api.MaxBatchBlobs {
			t.Fatalf("accepted %d submissions, %d blobs", len(b.Submissions), len(b.Blobs))
		}
		for _, bl := range b.Blobs {
			if len(bl.Data) == 0 || len(bl.Data) > api.MaxBatchBlob {
				t.Fatalf("accepted a blob of %d bytes", len(bl.Data))
			}
		}
		again, err := api.AppendBatch(nil, b)
		if err != nil {
			t.Fatal(err)
		}
		if len(again) != len(body) || b.Size() != len(body) {
			t.Fatalf("re-encoded in %d bytes (Size %d), parsed from %d", len(again), b.Size(), len(body))
		}
		b2, err := api.ParseBatch(again)
		if err != nil || !reflect.DeepEqual(b, b2) {
			t.Fatalf("re-encoding parses differently: %v", err)
		}
	})
}

// TestBatchWrongPageKeepsPartial: a blob part whose bytes do not hash to its
// address is dropped before it reaches the store, so the part of that blob
// an earlier PATCH left (here another kiosk's, which needs only the
// address) is kept and its upload resumes where it stood.
func TestBatchWrongPageKeepsPartial(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1", "K2")
	p := page("K2's page ", 8000)
	sha := shaHex(p)
	patch := func(off int) resp {
		return e.do(req{method: "PATCH", path: api.PathBlobs + sha, body: p[off:min(off+3000, len(p))], kiosk: "K2",
			header: map[string]string{"Content-Type": api.ContentTypeOffset, api.HeaderUploadOffset: fmt.Sprint(off), api.HeaderUploadLength: fmt.Sprint(len(p))}})
	}
	if r := patch(0); r.code != http.StatusNoContent {
		t.Fatalf("first chunk: %d %s", r.code, r.body)
	}
	sub := newSubmission("K1", 1, p)
	j, _ := json.Marshal(sub)
	body, _ := api.AppendBatch(nil, api.Batch{
		Blobs:       []api.BatchBlob{{SHA256: sha, Data: page("other bytes ", 8000)}},
		Submissions: []api.BatchSubmission{{Key: sub.UUID, Body: j}},
	})
	if rs := batchResults(t, e.postBatch("K1", body), 1); rs[0].Status != http.StatusUnprocessableEntity || !strings.Contains(string(rs[0].Body), api.CodeMissingBlobs) {
		t.Fatalf("item answer %+v", rs[0])
	}
	if r := e.do(req{method: "HEAD", path: api.PathBlobs + sha, kiosk: "K2"}); r.code != http.StatusOK || r.header.Get(api.HeaderUploadOffset) != "3000" {
		t.Fatalf("K2's HEAD after K1's wrong page = %d offset %q, want 200 offset 3000", r.code, r.header.Get(api.HeaderUploadOffset))
	}
	for off := 3000; off < len(p); off += 3000 {
		if r := patch(off); r.code != http.StatusNoContent {
			t.Fatalf("chunk at %d: %d %s", off, r.code, r.body)
		}
	}
	if ok, _, _ := e.blobs.Complete(context.Background(), sha); !ok {
		t.Fatal("K2's page is not complete")
	}
}
