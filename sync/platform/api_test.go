package platform_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"onedoor/sync/api"
	"onedoor/sync/platform"
)

func patchHdr(off, length int) map[string]string {
	return map[string]string{"Content-Type": api.ContentTypeOffset, api.HeaderUploadOffset: strconv.Itoa(off), api.HeaderUploadLength: strconv.Itoa(length)}
}

func TestBlobResumableUpload(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	data := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	sha := shaHex(data)
	path := api.PathBlobs + sha

	if r := e.do(req{method: "HEAD", path: path}); r.code != http.StatusNotFound {
		t.Fatalf("HEAD before upload = %d", r.code)
	}
	r := e.do(req{method: "PATCH", path: path, body: data[:10000], header: patchHdr(0, len(data))})
	if r.code != http.StatusNoContent || r.header.Get(api.HeaderUploadOffset) != "10000" {
		t.Fatalf("first PATCH = %d offset %q %s", r.code, r.header.Get(api.HeaderUploadOffset), r.body)
	}
	r = e.do(req{method: "HEAD", path: path})
	if r.code != http.StatusOK || r.header.Get(api.HeaderUploadOffset) != "10000" || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("HEAD mid-upload = %d %v", r.code, r.header)
	}
	// The kiosk thinks it is further along than the platform: 409 with the
	// platform's offset, and nothing written.
	r = e.do(req{method: "PATCH", path: path, body: data[20000:30000], header: patchHdr(20000, len(data))})
	if r.code != http.StatusConflict || r.header.Get(api.HeaderUploadOffset) != "10000" {
		t.Fatalf("mismatched PATCH = %d %v", r.code, r.header)
	}
	if er := r.errCode(t); er.Code != api.CodeOffsetMismatch || er.Offset == nil || *er.Offset != 10000 {
		t.Fatalf("mismatch body = %+v", er)
	}
	// A body running past Upload-Length is refused from its
	// Content-Length, before it is read, and not kept.
	r = e.do(req{method: "PATCH", path: path, body: append(append([]byte{}, data[10000:]...), 'x'), header: patchHdr(10000, len(data))})
	if r.code != http.StatusRequestEntityTooLarge || r.errCode(t).Code != api.CodeTooLarge {
		t.Fatalf("overlong PATCH = %d %v %s", r.code, r.header, r.body)
	}
	if r = e.do(req{method: "HEAD", path: path}); r.header.Get(api.HeaderUploadOffset) != "10000" {
		t.Fatalf("HEAD after overlong PATCH = %d %v", r.code, r.header)
	}
	r = e.do(req{method: "PATCH", path: path, body: data[10000:], header: patchHdr(10000, len(data))})
	if r.code != http.StatusNoContent || r.header.Get(api.HeaderUploadOffset) != strconv.Itoa(len(data)) {
		t.Fatalf("final PATCH = %d %v %s", r.code, r.header, r.body)
	}
	r = e.do(req{method: "HEAD", path: path})
	if r.code != http.StatusOK || r.header.Get(api.HeaderUploadOffset) != strconv.Itoa(len(data)) || r.header.Get(api.HeaderUploadLength) != strconv.Itoa(len(data)) {
		t.Fatalf("HEAD complete = %d %v", r.code, r.header)
	}
	// A lost 204 makes the kiosk resend the last chunk: it learns the end.
	r = e.do(req{method: "PATCH", path: path, body: data[10000:], header: patchHdr(10000, len(data))})
	if r.code != http.StatusConflict || r.header.Get(api.HeaderUploadOffset) != strconv.Itoa(len(data)) {
		t.Fatalf("PATCH after completion = %d %v", r.code, r.header)
	}
}

func TestBlobHashMismatchDiscarded(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	data := []byte("the real page")
	wrong := shaHex([]byte("some other page"))
	r := e.do(req{method: "PATCH", path: api.PathBlobs + wrong, body: data, header: patchHdr(0, len(data))})
	if r.code != http.StatusUnprocessableEntity || r.errCode(t).Code != api.CodeHashMismatch {
		t.Fatalf("PATCH with wrong address = %d %s", r.code, r.body)
	}
	if r := e.do(req{method: "HEAD", path: api.PathBlobs + wrong}); r.code != http.StatusNotFound {
		t.Fatalf("discarded blob still visible: %d %v", r.code, r.header)
	}
}

func TestBlobBadRequests(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	sha := shaHex([]byte("x"))
	tests := []struct {
		name string
		path string
		hdr  map[string]string
		want int
	}{
		{"bad address", api.PathBlobs + "ABC", patchHdr(0, 1), http.StatusBadRequest},
		{"wrong content type", api.PathBlobs + sha, map[string]string{"Content-Type": "image/png", api.HeaderUploadOffset: "0", api.HeaderUploadLength: "1"}, http.StatusUnsupportedMediaType},
		{"no length", api.PathBlobs + sha, map[string]string{"Content-Type": api.ContentTypeOffset, api.HeaderUploadOffset: "0"}, http.StatusBadRequest},
		{"negative offset", api.PathBlobs + sha, patchHdr(-1, 1), http.StatusBadRequest},
		{"too large", api.PathBlobs + sha, patchHdr(0, api.MaxBlobSize+1), http.StatusRequestEntityTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if r := e.do(req{method: "PATCH", path: tc.path, body: []byte("x"), header: tc.hdr}); r.code != tc.want {
				t.Fatalf("= %d %s, want %d", r.code, r.body, tc.want)
			}
		})
	}
}

// rawPatch sends a PATCH whose body stops after cut of its declared bytes
// and then closes the connection, as a dropped village link does.
func rawPatch(t *testing.T, e *env, sha string, data []byte, cut int, contentHash string) {
	t.Helper()
	hr := e.build(req{method: "PATCH", path: api.PathBlobs + sha, body: data, contentHash: contentHash, header: patchHdr(0, len(data))})
	conn, err := net.Dial("tcp", e.http.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(conn)
	fmt.Fprintf(w, "PATCH %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n", hr.URL.RequestURI(), len(data))
	hr.Header.Write(w)
	w.WriteString("\r\n")
	w.Write(data[:cut])
	w.Flush()
	time.Sleep(50 * time.Millisecond) // let the server read what was sent before the cut
	conn.Close()
}

func waitOffset(t *testing.T, e *env, sha string, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := e.do(req{method: "HEAD", path: api.PathBlobs + sha})
		got := r.header.Get(api.HeaderUploadOffset)
		if r.code == http.StatusNotFound {
			got = "404"
		}
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("offset = %s, want %s", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBlobCutMidBody(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	data := bytes.Repeat([]byte{0xAB, 0xCD, 0xEF}, 100000)
	sha := shaHex(data)

	// Signed chunk: a cut body cannot match its hash, so nothing is kept.
	rawPatch(t, e, sha, data, 120000, shaHex(data))
	waitOffset(t, e, sha, "0")

	// UNSIGNED-PAYLOAD: the bytes that arrived are kept and the upload
	// resumes there; the whole blob is still verified at the end.
	rawPatch(t, e, sha, data, 120000, api.UnsignedPayload)
	waitOffset(t, e, sha, "120000")
	r := e.do(req{method: "PATCH", path: api.PathBlobs + sha, body: data[120000:], contentHash: api.UnsignedPayload, header: patchHdr(120000, len(data))})
	if r.code != http.StatusNoContent {
		t.Fatalf("resume = %d %s", r.code, r.body)
	}
	waitOffset(t, e, sha, strconv.Itoa(len(data)))
}

var caseRe = regexp.MustCompile(`^DG-20\d\d-\d{6}$`)

func TestSubmissionIntakeAndReplay(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	page1, page2 := []byte("page one bytes"), []byte("page two bytes")
	sub := newSubmission("K1", 1, page1, page2)

	// Blobs first: naming one that is not there is retryable, not a verdict.
	e.upload("K1", page1)
	r := e.submit("K1", sub)
	if r.code != http.StatusUnprocessableEntity {
		t.Fatalf("missing blob: %d %s", r.code, r.body)
	}
	if er := r.errCode(t); er.Code != api.CodeMissingBlobs || len(er.MissingBlobs) != 1 || er.MissingBlobs[0] != shaHex(page2) {
		t.Fatalf("missing blob body = %+v", er)
	}
	e.upload("K1", page2)

	first := e.submit("K1", sub)
	if first.code != http.StatusCreated {
		t.Fatalf("submit = %d %s", first.code, first.body)
	}
	var sr api.SubmissionResponse
	if err := json.Unmarshal(first.body, &sr); err != nil {
		t.Fatal(err)
	}
	if !caseRe.MatchString(sr.CaseNumber) || sr.UUID != sub.UUID || sr.Receipt != sub.Receipt || sr.Status != api.StatusReceived {
		t.Fatalf("response = %+v", sr)
	}
	// A lost response: the same request again gets the same bytes.
	time.Sleep(10 * time.Millisecond)
	again := e.submit("K1", sub)
	if again.code != first.code || !bytes.Equal(again.body, first.body) {
		t.Fatalf("replay = %d %s, want %d %s", again.code, again.body, first.code, first.body)
	}
	// Same key, different body.
	changed := sub
	changed.Form = map[string]string{"reason": "别的理由"}
	if r := e.submit("K1", changed); r.code != http.StatusConflict || r.errCode(t).Code != api.CodeIdempotencyConflict {
		t.Fatalf("changed body = %d %s", r.code, r.body)
	}
	// Case numbers count up.
	second := newSubmission("K1", 2)
	r = e.submit("K1", second)
	var sr2 api.SubmissionResponse
	json.Unmarshal(r.body, &sr2)
	n1, _ := strconv.Atoi(sr.CaseNumber[8:])
	n2, _ := strconv.Atoi(sr2.CaseNumber[8:])
	if r.code != http.StatusCreated || n2 != n1+1 {
		t.Fatalf("second case = %s after %s", sr2.CaseNumber, sr.CaseNumber)
	}

	var rows []platform.ExportRow
	e.store.Export(context.Background(), func(r platform.ExportRow) error { rows = append(rows, r); return nil })
	if len(rows) != 2 || rows[0].UUID != sub.UUID || len(rows[0].Blobs) != 2 || rows[0].Blobs[1] != shaHex(page2) {
		t.Fatalf("export = %+v", rows)
	}
	// Personal data stays out of the logs.
	if strings.Contains(e.logs.String(), testID) || strings.Contains(e.logs.String(), "测试人") {
		t.Fatalf("logs contain personal data:\n%s", e.logs)
	}
}

func TestSubmissionRejections(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1", "K2")
	tests := []struct {
		name   string
		mutate func(s *api.SubmissionRequest) (key string, kiosk string, body []byte)
		code   int
		errc   string
	}{
		{"bad id number", func(s *api.SubmissionRequest) (string, string, []byte) {
			s.Applicant.IDNumber = "441900199001011232"
			return "", "", nil
		}, http.StatusUnprocessableEntity, api.CodeValidation},
		{"uuid differs from key", func(s *api.SubmissionRequest) (string, string, []byte) {
			return "0b7e8a6c-6f1e-4f57-9b0a-2f6c1d3e4a5b", "", nil
		}, http.StatusUnprocessableEntity, api.CodeValidation},
		{"other kiosk's submission", func(s *api.SubmissionRequest) (string, string, []byte) {
			return "", "K2", nil
		}, http.StatusUnprocessableEntity, api.CodeValidation},
		{"not json", func(s *api.SubmissionRequest) (string, string, []byte) {
			return "", "", []byte("<html>oops</html>")
		}, http.StatusBadRequest, api.CodeBadRequest},
		{"no key", func(s *api.SubmissionRequest) (string, string, []byte) {
			return "-", "", nil
		}, http.StatusBadRequest, api.CodeBadRequest},
		{"too large", func(s *api.SubmissionRequest) (string, string, []byte) {
			return "", "", bytes.Repeat([]byte(" "), api.MaxRequestBytes+1)
		}, http.StatusRequestEntityTooLarge, api.CodeTooLarge},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSubmission("K1", 100+i)
			key, kiosk, body := tc.mutate(&s)
			if key == "" {
				key = s.UUID
			}
			if key == "-" {
				key = ""
			}
			if kiosk == "" {
				kiosk = "K1"
			}
			if body == nil {
				body, _ = json.Marshal(s)
			}
			r := e.do(req{method: "POST", path: api.PathSubmissions, body: body, kiosk: kiosk, header: map[string]string{api.HeaderIdempotencyKey: key}})
			if r.code != tc.code || r.errCode(t).Code != tc.errc {
				t.Fatalf("= %d %s, want %d %s", r.code, r.body, tc.code, tc.errc)
			}
		})
	}
	var n int
	e.store.Export(context.Background(), func(platform.ExportRow) error { n++; return nil })
	if n != 0 {
		t.Fatalf("%d rejected submissions were stored", n)
	}
}

func TestConcurrentDuplicatesGetOneCase(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	sub := newSubmission("K1", 1)
	var wg sync.WaitGroup
	bodies := make([][]byte, 16)
	codes := make([]int, 16)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, _ := json.Marshal(sub)
			hr := e.build(req{method: "POST", path: api.PathSubmissions, body: b, header: map[string]string{api.HeaderIdempotencyKey: sub.UUID}})
			res, err := e.http.Client().Do(hr)
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			var buf bytes.Buffer
			buf.ReadFrom(res.Body)
			bodies[i], codes[i] = buf.Bytes(), res.StatusCode
		}()
	}
	wg.Wait()
	for i := range bodies {
		if codes[i] != http.StatusCreated || !bytes.Equal(bodies[i], bodies[0]) {
			t.Fatalf("answer %d = %d %s, first %s", i, codes[i], bodies[i], bodies[0])
		}
	}
	var n int
	e.store.Export(context.Background(), func(platform.ExportRow) error { n++; return nil })
	if n != 1 {
		t.Fatalf("%d cases for one submission", n)
	}
}

func TestSignatureFailures(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	now := time.Now()
	tests := []struct {
		name string
		r    req
		msg  string
	}{
		{"unknown kiosk", req{kiosk: "K9"}, "unknown kiosk"},
		{"bad signature", req{token: "wrong-token"}, "bad signature"},
		{"stale timestamp", req{at: now.Add(-6 * time.Minute)}, "clock skew"},
		{"future timestamp", req{at: now.Add(6 * time.Minute)}, "clock skew"},
		{"body hash differs", req{method: "POST", path: api.PathHeartbeat, body: []byte(`{}`), contentHash: shaHex([]byte("other"))}, "does not match"},
		{"unsigned payload on POST", req{method: "POST", path: api.PathHeartbeat, body: []byte(`{}`), contentHash: api.UnsignedPayload}, "blob PATCH only"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.r.method == "" {
				tc.r.method, tc.r.path = "GET", api.PathStatuses
			}
			r := e.do(tc.r)
			if r.code != http.StatusUnauthorized || !strings.Contains(r.errCode(t).Message, tc.msg) {
				t.Fatalf("= %d %s, want 401 with %q", r.code, r.body, tc.msg)
			}
		})
	}
	t.Run("unsigned request", func(t *testing.T) {
		res, err := http.Get(e.http.URL + api.PathStatuses)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("= %d", res.StatusCode)
		}
	})
	t.Run("replayed nonce", func(t *testing.T) {
		hr := e.build(req{method: "GET", path: api.PathStatuses})
		if r := e.send(hr); r.code != http.StatusOK {
			t.Fatalf("first = %d %s", r.code, r.body)
		}
		hr2, _ := http.NewRequest(hr.Method, hr.URL.String(), nil)
		hr2.Header = hr.Header.Clone()
		r := e.send(hr2)
		if r.code != http.StatusUnauthorized || !strings.Contains(r.errCode(t).Message, "replay") {
			t.Fatalf("replay = %d %s", r.code, r.body)
		}
	})
	// Failures are counted for the technician's dashboard.
	res, err := getMetrics(e)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.ReadFrom(res.Body)
	res.Body.Close()
	for _, want := range []string{`onedoor_platform_auth_failures_total{reason="replay"} 1`, `onedoor_platform_auth_failures_total{reason="clock_skew"} 2`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, buf.String())
		}
	}
}

func statuses(t *testing.T, e *env, kiosk, since string) api.StatusesResponse {
	t.Helper()
	r := e.do(req{method: "GET", path: api.PathStatuses + "?since=" + since, kiosk: kiosk})
	if r.code != http.StatusOK {
		t.Fatalf("statuses = %d %s", r.code, r.body)
	}
	var sr api.StatusesResponse
	if err := json.Unmarshal(r.body, &sr); err != nil {
		t.Fatal(err)
	}
	return sr
}

func TestStatusesFeedAndTrack(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1", "K2")
	a, b, c := newSubmission("K1", 1), newSubmission("K1", 2), newSubmission("K2", 1)
	for _, s := range []api.SubmissionRequest{a, b, c} {
		if r := e.submit(s.KioskID, s); r.code != http.StatusCreated {
			t.Fatalf("submit: %d %s", r.code, r.body)
		}
	}
	s1 := statuses(t, e, "K1", "")
	if len(s1.Updates) != 2 || s1.Updates[0].UUID != a.UUID || s1.Updates[1].Status != api.StatusReceived || s1.More {
		t.Fatalf("K1 feed = %+v", s1)
	}
	if s := statuses(t, e, "K2", "0"); len(s.Updates) != 1 || s.Updates[0].UUID != c.UUID {
		t.Fatalf("K2 feed = %+v", s)
	}
	if s := statuses(t, e, "K1", s1.Cursor); len(s.Updates) != 0 || s.Cursor != s1.Cursor {
		t.Fatalf("feed after cursor = %+v", s)
	}
	ctx := context.Background()
	if _, err := e.store.Decide(ctx, b.UUID, api.StatusAccepted, "", "clerk", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Decide(ctx, b.UUID, api.StatusApproved, "准予", "clerk", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Decide(ctx, b.UUID, api.StatusRejected, "", "clerk", time.Now()); err == nil {
		t.Fatal("decision on a closed case accepted")
	}
	s2 := statuses(t, e, "K1", s1.Cursor)
	c1, _ := strconv.Atoi(s1.Cursor)
	c2, _ := strconv.Atoi(s2.Cursor)
	if len(s2.Updates) != 2 || s2.Updates[1].Status != api.StatusApproved || s2.Updates[1].Note != "准予" || c2 <= c1 {
		t.Fatalf("feed after decisions = %+v (cursor %s -> %s)", s2, s1.Cursor, s2.Cursor)
	}
	if r := e.do(req{method: "GET", path: api.PathStatuses + "?since=abc"}); r.code != http.StatusBadRequest {
		t.Fatalf("bad cursor = %d", r.code)
	}

	// Track works from any kiosk with the holder's proof and masks the name.
	r := e.do(req{method: "GET", path: api.PathTrack + b.Receipt, kiosk: "K2", header: map[string]string{api.HeaderHolderProof: api.HolderProof(testID, b.Receipt)}})
	var tr api.TrackResponse
	if err := json.Unmarshal(r.body, &tr); r.code != http.StatusOK || err != nil {
		t.Fatalf("track = %d %s", r.code, r.body)
	}
	if tr.Status != api.StatusApproved || len(tr.History) != 3 || tr.ApplicantName != "测*人" || strings.Contains(string(r.body), testID) {
		t.Fatalf("track = %s", r.body)
	}
	if r := e.do(req{method: "GET", path: api.PathTrack + "NOPE-1"}); r.code != http.StatusNotFound {
		t.Fatalf("unknown receipt = %d", r.code)
	}
}

func TestRatingsHeartbeatCatalog(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir, "K1")
	e.stop()
	e.start([]byte(`{"items":[{"id":"hukou-move"}]}`))

	if r := e.submit("K1", newSubmission("K1", 1)); r.code != http.StatusCreated {
		t.Fatalf("submit: %d %s", r.code, r.body)
	}
	rt := api.Rating{UUID: "6f1e0b7e-8a6c-4f57-9b0a-2f6c1d3e4a5b", Receipt: "K1-20260101-0001", Level: 5, At: time.Now().UTC()}
	body, _ := json.Marshal(rt)
	post := func(b []byte) resp {
		return e.do(req{method: "POST", path: api.PathRatings, body: b, header: map[string]string{api.HeaderIdempotencyKey: rt.UUID}})
	}
	first := post(body)
	again := post(body)
	if first.code != http.StatusCreated || again.code != http.StatusCreated || !bytes.Equal(first.body, again.body) {
		t.Fatalf("rating = %d %s / %d %s", first.code, first.body, again.code, again.body)
	}
	rt.Level = 1
	body2, _ := json.Marshal(rt)
	if r := post(body2); r.code != http.StatusConflict {
		t.Fatalf("changed rating = %d", r.code)
	}
	rt.Level = 9
	rt.UUID = "7f1e0b7e-8a6c-4f57-9b0a-2f6c1d3e4a5b"
	body3, _ := json.Marshal(rt)
	if r := e.do(req{method: "POST", path: api.PathRatings, body: body3, header: map[string]string{api.HeaderIdempotencyKey: rt.UUID}}); r.code != http.StatusUnprocessableEntity {
		t.Fatalf("level 9 = %d", r.code)
	}

	hb, _ := json.Marshal(api.Heartbeat{KioskID: "K1", Version: "1.0", QueueDepth: 3, Devices: map[string]string{"printer": "ok"}})
	r := e.do(req{method: "POST", path: api.PathHeartbeat, body: hb})
	var hr api.HeartbeatResponse
	if json.Unmarshal(r.body, &hr); r.code != http.StatusOK || time.Since(hr.ServerTime) > time.Minute {
		t.Fatalf("heartbeat = %d %s", r.code, r.body)
	}
	ks, _ := e.store.Kiosks(context.Background())
	if len(ks) != 1 || ks[0].Heartbeat == nil || ks[0].Heartbeat.QueueDepth != 3 {
		t.Fatalf("kiosks = %+v", ks)
	}

	r = e.do(req{method: "GET", path: api.PathCatalog})
	etag := r.header.Get("ETag")
	if r.code != http.StatusOK || etag == "" || !strings.Contains(string(r.body), "hukou-move") {
		t.Fatalf("catalog = %d %v %s", r.code, r.header, r.body)
	}
	if r := e.do(req{method: "GET", path: api.PathCatalog, header: map[string]string{"If-None-Match": etag}}); r.code != http.StatusNotModified {
		t.Fatalf("catalog with ETag = %d", r.code)
	}
	if r := e.do(req{method: "GET", path: api.PathCatalog, header: map[string]string{"If-None-Match": `"old"`}}); r.code != http.StatusOK {
		t.Fatalf("catalog with old ETag = %d", r.code)
	}
}

func TestHealthzAndMetrics(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	if r := e.submit("K1", newSubmission("K1", 1)); r.code != http.StatusCreated {
		t.Fatal(r.code)
	}
	res, err := http.Get(e.http.URL + "/healthz")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("healthz = %v %v", res, err)
	}
	res.Body.Close()
	res, err = getMetrics(e)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.ReadFrom(res.Body)
	res.Body.Close()
	for _, want := range []string{
		`onedoor_platform_submissions{status="received"} 1`,
		`onedoor_platform_submissions_created_total{kiosk="K1"} 1`,
		`onedoor_platform_http_requests_total{code="201",method="POST",route="submissions"} 1`,
		"# TYPE onedoor_platform_http_requests_total counter",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	e.store.Close()
	res, err = http.Get(e.http.URL + "/healthz")
	if err != nil || res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("healthz with closed db = %v %v", res.StatusCode, err)
	}
	res.Body.Close()
}

func TestRestartKeepsData(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir, "K1")
	page := []byte("a scanned page")
	half := 5
	if r := e.do(req{method: "PATCH", path: api.PathBlobs + shaHex([]byte("partial upload")), body: []byte("parti"), header: patchHdr(0, 14)}); r.code != http.StatusNoContent {
		t.Fatal(r.code)
	}
	e.upload("K1", page)
	sub := newSubmission("K1", 1, page)
	first := e.submit("K1", sub)
	s1 := statuses(t, e, "K1", "")

	e.stop()
	e.start(nil)

	if again := e.submit("K1", sub); again.code != first.code || !bytes.Equal(again.body, first.body) {
		t.Fatalf("replay after restart = %d %s, want %s", again.code, again.body, first.body)
	}
	if r := e.do(req{method: "HEAD", path: api.PathBlobs + shaHex([]byte("partial upload"))}); r.header.Get(api.HeaderUploadOffset) != strconv.Itoa(half) {
		t.Fatalf("partial upload offset after restart = %v", r.header)
	}
	if r := e.do(req{method: "HEAD", path: api.PathBlobs + shaHex(page)}); r.header.Get(api.HeaderUploadLength) != strconv.Itoa(len(page)) {
		t.Fatalf("complete blob after restart = %v", r.header)
	}
	s2 := statuses(t, e, "K1", "")
	if len(s2.Updates) != 1 || s2.Cursor != s1.Cursor {
		t.Fatalf("statuses after restart = %+v, before %+v", s2, s1)
	}
	second := newSubmission("K1", 2)
	r := e.submit("K1", second)
	var a, b api.SubmissionResponse
	json.Unmarshal(first.body, &a)
	json.Unmarshal(r.body, &b)
	if b.CaseNumber <= a.CaseNumber {
		t.Fatalf("case number after restart %s not after %s", b.CaseNumber, a.CaseNumber)
	}
}

// Many kiosks at once land in shared group commits; a conflicting request in
// a batch must fail alone and leave its neighbours stored, each with its own
// case number.
func TestConcurrentMixedBatch(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1", "K2", "K3", "K4")
	taken := newSubmission("K1", 999)
	if r := e.submit("K1", taken); r.code != http.StatusCreated {
		t.Fatal(r.code)
	}
	type result struct {
		code int
		body []byte
	}
	const n = 60
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := fmt.Sprintf("K%d", 1+i%4)
			s := newSubmission(k, i)
			if i%10 == 0 { // same key as the stored one, different body
				s = taken
				s.Form = map[string]string{"reason": fmt.Sprint(i)}
				k = "K1"
			}
			b, _ := json.Marshal(s)
			hr := e.build(req{method: "POST", path: api.PathSubmissions, body: b, kiosk: k, header: map[string]string{api.HeaderIdempotencyKey: s.UUID}})
			res, err := e.http.Client().Do(hr)
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			var buf bytes.Buffer
			buf.ReadFrom(res.Body)
			results[i] = result{res.StatusCode, buf.Bytes()}
		}()
	}
	wg.Wait()
	cases := map[string]bool{}
	for i, r := range results {
		if i%10 == 0 {
			if r.code != http.StatusConflict {
				t.Errorf("conflicting request %d = %d %s", i, r.code, r.body)
			}
			continue
		}
		var sr api.SubmissionResponse
		if r.code != http.StatusCreated || json.Unmarshal(r.body, &sr) != nil || cases[sr.CaseNumber] {
			t.Fatalf("request %d = %d %s", i, r.code, r.body)
		}
		cases[sr.CaseNumber] = true
	}
	var rows int
	e.store.Export(context.Background(), func(platform.ExportRow) error { rows++; return nil })
	if want := 1 + n - n/10; rows != want {
		t.Fatalf("%d submissions stored, want %d", rows, want)
	}
}

// A kiosk that was offline for long catches up page by page: a full page
// says more, and following the cursor yields every update once, in order.
func TestStatusesPaging(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	const n = 510
	var wg sync.WaitGroup
	sem := make(chan struct{}, 50)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			s := newSubmission("K1", i)
			_, _, err := e.store.CreateSubmission(context.Background(), platform.IntakeRecord{KioskID: "K1", IdemKey: s.UUID, BodyHash: "h", Req: s, ReceivedAt: time.Now(), CasePrefix: "DG"},
				func(sr api.SubmissionResponse) (platform.StoredResponse, error) {
					return platform.StoredResponse{Status: 201, Body: []byte("{}")}, nil
				})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	cursor, pages, last := "", 0, 0
	for {
		s := statuses(t, e, "K1", cursor)
		pages++
		for _, u := range s.Updates {
			if seen[u.UUID] {
				t.Fatalf("update for %s twice", u.UUID)
			}
			seen[u.UUID] = true
		}
		c, _ := strconv.Atoi(s.Cursor)
		if c < last {
			t.Fatalf("cursor went back: %d after %d", c, last)
		}
		last, cursor = c, s.Cursor
		if !s.More {
			break
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != n || pages != 2 {
		t.Fatalf("%d updates in %d pages, want %d in 2", len(seen), pages, n)
	}
}

// A half-open link: the kiosk's first PATCH stalls mid-body and its
// connection never closes. The platform must give up on it after the idle
// timeout, keep the bytes that arrived, and let the kiosk's resume through.
func TestStalledUploadDoesNotBlockResume(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	e.stop()
	e.idle = 300 * time.Millisecond
	e.start(nil)

	data := bytes.Repeat([]byte("stalled upload "), 2000)
	sha := shaHex(data)
	const cut = 12000
	hr := e.build(req{method: "PATCH", path: api.PathBlobs + sha, body: data, contentHash: api.UnsignedPayload, header: patchHdr(0, len(data))})
	conn, err := net.Dial("tcp", e.http.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close() // only at the end: the link stays half-open meanwhile
	w := bufio.NewWriter(conn)
	fmt.Fprintf(w, "PATCH %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n", hr.URL.RequestURI(), len(data))
	hr.Header.Write(w)
	w.WriteString("\r\n")
	w.Write(data[:cut])
	w.Flush()
	waitOffset(t, e, sha, strconv.Itoa(cut))

	done := make(chan resp, 1)
	go func() {
		done <- e.do(req{method: "PATCH", path: api.PathBlobs + sha, body: data[cut:], contentHash: api.UnsignedPayload, header: patchHdr(cut, len(data))})
	}()
	select {
	case r := <-done:
		if r.code != http.StatusNoContent || r.header.Get(api.HeaderUploadOffset) != strconv.Itoa(len(data)) {
			t.Fatalf("resume = %d %v %s", r.code, r.header, r.body)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("resume still blocked behind the stalled upload")
	}
}

// TestNoReplayAcrossCleanRestart: the replay cache is saved when the
// platform shuts down and loaded when it starts, so a request captured
// before a planned restart is still refused after it; a damaged cache file
// does not keep the platform from starting.
func TestNoReplayAcrossCleanRestart(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	captured := e.build(req{method: "GET", path: api.PathStatuses})
	if r := e.send(captured); r.code != http.StatusOK {
		t.Fatalf("first = %d %s", r.code, r.body)
	}
	e.stop()
	e.start(nil)
	// The same signed request, sent to the restarted platform (its port
	// changed; the signature covers the path, not the host).
	replay, _ := http.NewRequest(captured.Method, e.http.URL+api.PathStatuses, nil)
	replay.Header = captured.Header.Clone()
	if r := e.send(replay); r.code != http.StatusUnauthorized || !strings.Contains(r.errCode(t).Message, "replay") {
		t.Fatalf("replay after a clean restart = %d %s, want 401 replay", r.code, r.body)
	}

	e.stop()
	if err := os.WriteFile(e.dir+"/nonces.json", []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.start(nil)
	if r := e.do(req{method: "GET", path: api.PathStatuses}); r.code != http.StatusOK {
		t.Fatalf("after a damaged cache file = %d %s", r.code, r.body)
	}
}

// TestBlobStorageFailureIs5xx: a platform that cannot store a blob answers
// 500, which kiosks retry, never a 4xx, which they would take as a verdict
// on the resident's application.
func TestBlobStorageFailureIs5xx(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	e.blobs.Close() // the blob store is gone, as on a failed disk
	page := []byte("a scanned page")
	r := e.do(req{method: "PATCH", path: api.PathBlobs + shaHex(page), body: page, header: patchHdr(0, len(page))})
	if r.code != http.StatusInternalServerError {
		t.Fatalf("PATCH with the store failing = %d %s, want 500", r.code, r.body)
	}
}

// getMetrics scrapes the server's metrics listener (platformd
// --metrics-addr); the main handler serves /metrics only with a token.
func getMetrics(e *env) (*http.Response, error) {
	ms := httptest.NewServer(e.server.MetricsHandler())
	defer ms.Close()
	return http.Get(ms.URL + "/metrics")
}
