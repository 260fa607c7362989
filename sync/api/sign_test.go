package api

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// The vector was computed outside Go with:
//
//	printf 'POST\n/api/v1/submissions\n1767225600\n000102030405060708090a0b0c0d0e0f\ne3b0…b855' | openssl dgst -sha256 -hmac tok123
func TestSignatureKnownAnswer(t *testing.T) {
	got := Signature("tok123", StringToSign("POST", "/api/v1/submissions", "1767225600", "000102030405060708090a0b0c0d0e0f", EmptySHA256))
	want := "5e7a7f27c7ac50ffea474cfd9c397c99ec133f438649ca618b41b9d20a82538e"
	if got != want {
		t.Fatalf("signature = %s, want %s", got, want)
	}
	if BodySHA256(nil) != EmptySHA256 {
		t.Fatalf("BodySHA256(nil) = %s", BodySHA256(nil))
	}
}

const testNonce = "000102030405060708090a0b0c0d0e0f"

func signed(t *testing.T, method, url string, body []byte, now time.Time) *http.Request {
	t.Helper()
	req := httptest.NewRequest(method, url, bytes.NewReader(body))
	if err := Sign(req, "K1", "secret", BodySHA256(body), now, testNonce); err != nil {
		t.Fatal(err)
	}
	return req
}

func TestVerify(t *testing.T) {
	now := time.Unix(1767225600, 0)
	body := []byte(`{"a":1}`)
	tests := []struct {
		name    string
		mutate  func(r *http.Request)
		token   string
		body    string
		at      time.Time
		wantErr error
	}{
		{name: "ok", token: "secret", body: BodySHA256(body), at: now},
		{name: "ok streaming (no body hash yet)", token: "secret", body: "", at: now},
		{name: "ok 4m59s late", token: "secret", body: BodySHA256(body), at: now.Add(299 * time.Second)},
		{name: "ok 4m59s early", token: "secret", body: BodySHA256(body), at: now.Add(-299 * time.Second)},
		{name: "wrong token", token: "other", body: BodySHA256(body), at: now, wantErr: ErrBadSignature},
		{name: "stale", token: "secret", body: BodySHA256(body), at: now.Add(6 * time.Minute), wantErr: ErrClockSkew},
		{name: "future", token: "secret", body: BodySHA256(body), at: now.Add(-6 * time.Minute), wantErr: ErrClockSkew},
		{name: "body differs", token: "secret", body: BodySHA256([]byte("x")), at: now, wantErr: ErrBodyHash},
		{name: "method changed", mutate: func(r *http.Request) { r.Method = "PUT" }, token: "secret", at: now, wantErr: ErrBadSignature},
		{name: "uri changed", mutate: func(r *http.Request) { r.RequestURI = "/api/v1/statuses?since=0" }, token: "secret", at: now, wantErr: ErrBadSignature},
		{name: "kiosk header swapped is caught by token lookup, sig still binds nonce", mutate: func(r *http.Request) { r.Header.Set(HeaderNonce, "ffffffffffffffffffffffffffffffff") }, token: "secret", at: now, wantErr: ErrBadSignature},
		{name: "timestamp changed", mutate: func(r *http.Request) { r.Header.Set(HeaderTimestamp, "1767225601") }, token: "secret", at: now, wantErr: ErrBadSignature},
		{name: "content hash changed", mutate: func(r *http.Request) { r.Header.Set(HeaderContentSHA256, EmptySHA256) }, token: "secret", at: now, wantErr: ErrBadSignature},
		{name: "missing signature", mutate: func(r *http.Request) { r.Header.Del(HeaderSignature) }, token: "secret", at: now, wantErr: ErrUnsigned},
		{name: "uppercase nonce", mutate: func(r *http.Request) { r.Header.Set(HeaderNonce, "000102030405060708090A0B0C0D0E0F") }, token: "secret", at: now, wantErr: ErrUnsigned},
		{name: "bad timestamp", mutate: func(r *http.Request) { r.Header.Set(HeaderTimestamp, "soon") }, token: "secret", at: now, wantErr: ErrUnsigned},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := signed(t, "POST", "/api/v1/submissions", body, now)
			if tc.mutate != nil {
				tc.mutate(req)
			}
			a, err := Verify(req, tc.token, tc.body, tc.at)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Verify error = %v, want %v", err, tc.wantErr)
			}
			if err == nil && (a.KioskID != "K1" || a.Nonce != testNonce || !a.Timestamp.Equal(now)) {
				t.Fatalf("auth = %+v", a)
			}
		})
	}
}

func TestUnsignedPayloadOnlyBypassesBodyCheck(t *testing.T) {
	now := time.Now()
	req := httptest.NewRequest("PATCH", "/api/v1/blobs/"+EmptySHA256, bytes.NewReader([]byte("chunk")))
	if err := Sign(req, "K1", "secret", UnsignedPayload, now, testNonce); err != nil {
		t.Fatal(err)
	}
	a, err := Verify(req, "secret", BodySHA256([]byte("other")), now)
	if err != nil || a.ContentSHA256 != UnsignedPayload {
		t.Fatalf("Verify = %+v, %v", a, err)
	}
	if _, err := Verify(req, "wrong", "", now); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("wrong token: %v", err)
	}
}

// Sign on the client and Verify on a real server over loopback: the
// RequestURI the transport writes must be the one the server sees, query
// string and escaping included.
func TestSignVerifyOverLoopback(t *testing.T) {
	var got error
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, got = Verify(r, "secret", BodySHA256(b), time.Now())
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	for _, path := range []string{"/api/v1/statuses?since=42", "/api/v1/track/K1-20260101-0001", "/api/v1/track/%E4%B8%80?x=a%20b"} {
		body := []byte("hello")
		req, err := http.NewRequest("POST", srv.URL+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		nonce, err := NewNonce()
		if err != nil {
			t.Fatal(err)
		}
		if err := Sign(req, "K1", "secret", BodySHA256(body), time.Now(), nonce); err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got != nil {
			t.Errorf("%s: server Verify: %v", path, got)
		}
	}
}

func TestNewNonceIsFresh(t *testing.T) {
	a, _ := NewNonce()
	b, _ := NewNonce()
	if a == b || !isHex(a, 32) {
		t.Fatalf("nonces %q %q", a, b)
	}
}

func FuzzParseAuth(f *testing.F) {
	f.Add("K1", "1767225600", testNonce, EmptySHA256, "5e7a7f27c7ac50ffea474cfd9c397c99ec133f438649ca618b41b9d20a82538e")
	f.Add("", "", "", "", "")
	f.Add("K\n1", "-1", "zz", UnsignedPayload, "00")
	f.Fuzz(func(t *testing.T, kiosk, ts, nonce, content, sig string) {
		req := httptest.NewRequest("GET", "/api/v1/statuses", nil)
		req.Header[HeaderKiosk] = []string{kiosk}
		req.Header[HeaderTimestamp] = []string{ts}
		req.Header[HeaderNonce] = []string{nonce}
		req.Header[HeaderContentSHA256] = []string{content}
		req.Header[HeaderSignature] = []string{sig}
		a, err := Verify(req, "secret", "", time.Unix(1767225600, 0))
		if err == nil {
			// Only a correct signature may pass, and it needs the token.
			want := Signature("secret", StringToSign("GET", "/api/v1/statuses", ts, nonce, content))
			if sig != want || a.KioskID != kiosk {
				t.Fatalf("accepted forged request %+v", a)
			}
		}
	})
}
