package platform_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"onedoor/sync/api"
)

// TestBadTextRefused: text the platform could not store as sent is a 422,
// never rewritten to U+FFFD; so are malformed dates and unknown heartbeat
// fields.
func TestBadTextRefused(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	base, err := json.Marshal(newSubmission("K1", 1))
	if err != nil {
		t.Fatal(err)
	}
	sub := newSubmission("K1", 1)
	for _, tc := range []struct {
		name, old, new string
	}{
		{"invalid UTF-8", `"工作调动"`, "\"\xff\xfe\""},
		{"NUL escape", `"工作调动"`, `"工作\u0000调动"`},
		{"lone high surrogate", `"工作调动"`, `"\ud800"`},
		{"lone low surrogate", `"测试人"`, `"测\udc00"`},
		{"malformed created_at", `"created_at":"`, `"created_at":"2026-13-01T09:00:00Z","x":"`},
		{"bad birth date", `"phone":`, `"birth_date":"19900230","phone":`},
	} {
		body := strings.Replace(string(base), tc.old, tc.new, 1)
		if body == string(base) {
			t.Fatalf("%s: nothing replaced", tc.name)
		}
		r := e.do(req{method: "POST", path: api.PathSubmissions, body: []byte(body), header: map[string]string{api.HeaderIdempotencyKey: sub.UUID}})
		if r.code != http.StatusUnprocessableEntity || r.errCode(t).Code != api.CodeValidation {
			t.Errorf("%s: %d %s, want 422 validation", tc.name, r.code, r.body)
		}
	}
	// Nothing of them was stored: the clean one still goes in.
	if r := e.submit("K1", sub); r.code != http.StatusCreated {
		t.Fatalf("clean submission = %d %s", r.code, r.body)
	}
	rating := `{"uuid":"6f1e0b7e-8a6c-4f57-9b0a-2f6c1d3e4a5b","receipt":"` + sub.Receipt + `","level":3,"reason":"\udfff","at":"2026-01-01T09:00:00Z"}`
	if r := e.do(req{method: "POST", path: api.PathRatings, body: []byte(rating), header: map[string]string{api.HeaderIdempotencyKey: "6f1e0b7e-8a6c-4f57-9b0a-2f6c1d3e4a5b"}}); r.code != http.StatusUnprocessableEntity {
		t.Errorf("rating with a lone surrogate = %d %s", r.code, r.body)
	}
	for _, hb := range []string{
		`{"kiosk_id":"K1","version":"1","free_disk":1}`, // misspelt: free_disk_bytes
		`{"kiosk_id":"K1","version":"\u0000"}`,
		`{"kiosk_id":"K1","version":"1","last_sync":"yesterday"}`,
		`{"kiosk_id":"K1","version":"1","queue_depth":-1}`,
		`{"kiosk_id":"K1","version":"` + strings.Repeat("v", 65) + `"}`,
	} {
		if r := e.do(req{method: "POST", path: api.PathHeartbeat, body: []byte(hb)}); r.code != http.StatusUnprocessableEntity {
			t.Errorf("heartbeat %s = %d %s, want 422", hb, r.code, r.body)
		}
	}
}

// TestOddPathsGetJSON: paths ServeMux would redirect or answer in plain
// text get the JSON error body.
func TestOddPathsGetJSON(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct{ method, path string }{
		{"POST", "//api/v1/submissions"},
		{"GET", "/api/v1/./catalog"},
		{"GET", "/api/v1/blobs/../catalog"},
		{"GET", "/API/V1/CATALOG"},
		{"GET", "/Office/"},
		{"GET", "/office//kiosks"},
		{"DELETE", "/api/v1/submissions"},
		{"GET", "/nothing-here"},
	} {
		hr, err := http.NewRequest(tc.method, e.http.URL+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var er api.ErrorResponse
		if res.StatusCode < 400 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || json.Unmarshal(b, &er) != nil || (er.Code != api.CodeBadRequest && er.Code != api.CodeNotFound) {
			t.Errorf("%s %s = %d %s %q, want a JSON error", tc.method, tc.path, res.StatusCode, res.Header.Get("Content-Type"), b)
		}
	}
}

// TestBadTimeNamesField: a malformed time is refused naming its field and
// without echoing the value, which may be anything (an ID number, a
// megabyte of text) and goes into the kiosk's stored reason and logs.
func TestBadTimeNamesField(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	const secret = "441900199001011231"
	sub := newSubmission("K1", 1)
	base, err := json.Marshal(sub)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, r resp, field string) {
		t.Helper()
		er := r.errCode(t)
		if r.code != http.StatusUnprocessableEntity || er.Code != api.CodeValidation {
			t.Fatalf("%s: %d %s, want 422 validation", what, r.code, r.body)
		}
		if !strings.HasPrefix(er.Message, field+":") || strings.Contains(string(r.body), secret) || strings.Contains(string(r.body), "xxxx") {
			t.Errorf("%s: message %q, want it to name %s and not repeat the value", what, er.Message, field)
		}
	}
	for _, v := range []string{secret, strings.Repeat("x", 100000)} {
		body := strings.Replace(string(base), `"created_at":"`, `"created_at":"`+v+`","x":"`, 1)
		check("submission", e.do(req{method: "POST", path: api.PathSubmissions, body: []byte(body), header: map[string]string{api.HeaderIdempotencyKey: sub.UUID}}), "created_at")
	}
	hb := `{"kiosk_id":"K1","version":"1","last_sync":"` + secret + `"}`
	check("heartbeat", e.do(req{method: "POST", path: api.PathHeartbeat, body: []byte(hb)}), "last_sync")
	const rid = "6f1e0b7e-8a6c-4f57-9b0a-2f6c1d3e4a5b"
	rating := `{"uuid":"` + rid + `","receipt":"` + sub.Receipt + `","level":3,"at":"` + secret + `"}`
	check("rating", e.do(req{method: "POST", path: api.PathRatings, body: []byte(rating), header: map[string]string{api.HeaderIdempotencyKey: rid}}), "at")
	// JSON null is still a zero time, as before, and a good submission goes in.
	if r := e.submit("K1", sub); r.code != http.StatusCreated {
		t.Fatalf("clean submission = %d %s", r.code, r.body)
	}
}

// TestWrongJSONTypeNotEchoed: a value of the wrong JSON type is a 400
// naming the field, without the value (a number is repeated as sent by
// encoding/json's own message: an ID number sent as one).
func TestWrongJSONTypeNotEchoed(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	const secret = "441900199001011231"
	for _, hb := range []string{
		`{"kiosk_id":"K1","queue_depth":` + secret + `.5}`,
		`{"kiosk_id":"K1","free_disk_bytes":` + secret + `0000}`,
		`{"kiosk_id":"K1","devices":{"printer":` + secret + `}}`,
	} {
		r := e.do(req{method: "POST", path: api.PathHeartbeat, body: []byte(hb)})
		if r.code != http.StatusBadRequest || r.errCode(t).Code != api.CodeBadRequest {
			t.Fatalf("heartbeat %s = %d %s, want 400", hb, r.code, r.body)
		}
		if strings.Contains(string(r.body), secret) || !strings.Contains(string(r.body), "heartbeat") {
			t.Errorf("heartbeat %s: answer %s repeats the value or names nothing", hb, r.body)
		}
	}
}

// TestPageSizeMustMatchBlob: a page whose declared size is not its blob's
// is refused (422 naming the page), alone and in a batch; staff would be
// shown, and the export would carry, a size the scan does not have.
func TestPageSizeMustMatchBlob(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	scan := []byte("a scanned page of 32 bytes......")
	e.upload("K1", scan)
	for i, size := range []int64{int64(len(scan)) - 1, int64(len(scan)) + 1, 1} {
		sub := newSubmission("K1", i+1, scan)
		sub.Materials[0].Pages[0].Size = size
		r := e.submit("K1", sub)
		if r.code != http.StatusUnprocessableEntity || r.errCode(t).Code != api.CodeValidation || !strings.Contains(string(r.body), "pages[0].size") {
			t.Errorf("page declared %d bytes for a %d-byte blob = %d %s, want 422 validation", size, len(scan), r.code, r.body)
		}
	}
	sub := newSubmission("K1", 9, scan)
	sub.Materials[0].Pages[0].Size = 5
	if rs := batchResults(t, e.postBatch("K1", batchOf(t, [][]byte{scan}, sub)), 1); rs[0].Status != http.StatusUnprocessableEntity {
		t.Errorf("in a batch: %+v", rs[0])
	}
	if r := e.submit("K1", newSubmission("K1", 10, scan)); r.code != http.StatusCreated {
		t.Fatalf("the right size = %d %s", r.code, r.body)
	}
}
