package platform_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"onedoor/sync/api"
	"onedoor/sync/client"
	"onedoor/sync/platform"
)

// TestEnrolWithKeyPair: a kiosk makes its own key pair and registers the
// public key with a one-time code; the platform then keeps nothing that
// could sign as the kiosk, and a token kiosk migrates without changing id.
func TestEnrolWithKeyPair(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	ctx := context.Background()
	code, err := platform.AddEnrolment(ctx, e.store, "K9", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// Not a credential by itself: nothing signed as K9 passes before enrolment.
	if r := e.do(req{method: "POST", path: api.PathHeartbeat, body: []byte(`{"kiosk_id":"K9"}`), kiosk: "K9", token: code}); r.code != http.StatusUnauthorized {
		t.Fatalf("request before enrolment = %d", r.code)
	}
	if _, _, err := client.Enrol(ctx, e.http.URL, "K9", "WRONG-CODE0-00000-00000", nil); err == nil {
		t.Fatal("enrolled with a wrong code")
	}
	cred, resp, err := client.Enrol(ctx, e.http.URL, "K9", strings.ToLower(code), nil)
	if err != nil || resp.KioskID != "K9" || resp.Algorithm != api.AlgEd25519 {
		t.Fatalf("enrol = %+v %v", resp, err)
	}
	// A lost answer: the same key and code again get the same answer; the
	// code cannot enrol a second key.
	again, err := client.EnrolWith(ctx, e.http.URL, "K9", code, cred, nil)
	if err != nil || !again.EnrolledAt.Equal(resp.EnrolledAt) {
		t.Fatalf("repeated enrolment = %+v %v", again, err)
	}
	var ae *client.APIError
	if _, _, err := client.Enrol(ctx, e.http.URL, "K9", code, nil); !errors.As(err, &ae) || ae.Status != http.StatusConflict {
		t.Fatalf("second key with the code = %v", err)
	}
	c, err := client.New(client.Config{BaseURL: e.http.URL, KioskID: "K9", Token: cred, RetryMax: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Heartbeat(ctx, &api.Heartbeat{KioskID: "K9", Version: "1"}); err != nil {
		t.Fatalf("heartbeat signed with the kiosk's key: %v", err)
	}
	if r := e.submit("K9", newSubmission("K9", 1)); r.code != http.StatusUnauthorized {
		t.Fatalf("HMAC with no token = %d", r.code)
	}

	// Migration: K1 has a token and queued work; it gets a code, enrols,
	// and from then on only its key signs for it.
	if r := e.submit("K1", newSubmission("K1", 1)); r.code != http.StatusCreated {
		t.Fatalf("token kiosk before migration = %d", r.code)
	}
	code1, err := platform.AddEnrolment(ctx, e.store, "K1", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if r := e.submit("K1", newSubmission("K1", 2)); r.code != http.StatusCreated {
		t.Fatalf("token kiosk with a pending code = %d", r.code)
	}
	cred1, _, err := client.Enrol(ctx, e.http.URL, "K1", code1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := e.submit("K1", newSubmission("K1", 3)); r.code != http.StatusUnauthorized {
		t.Fatalf("old token after enrolment = %d", r.code)
	}
	c1, _ := client.New(client.Config{BaseURL: e.http.URL, KioskID: "K1", Token: cred1, RetryMax: -1})
	st, err := c1.Statuses(ctx, "0")
	if err != nil || len(st.Updates) != 2 {
		t.Fatalf("K1's feed after migration = %+v %v", st, err)
	}
	// The database holds neither the old token nor any private key.
	e.stop()
	files, _ := filepath.Glob(filepath.Join(e.dir, "platform.db*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, secret := range []string{e.tokens["K1"], strings.TrimPrefix(cred, "ed25519:"), strings.TrimPrefix(cred1, "ed25519:")} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds a secret that signs as a kiosk", filepath.Base(f))
			}
		}
	}
}

// TestEnrolNeedsTheKey: an enrolment signed by another key than the one it
// registers is refused (a stolen code is useless without signing).
func TestEnrolNeedsTheKey(t *testing.T) {
	e := newEnv(t, t.TempDir())
	code, err := platform.AddEnrolment(context.Background(), e.store, "K9", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	body, _ := json.Marshal(api.EnrolRequest{KioskID: "K9", Code: code, Algorithm: api.AlgEd25519, PublicKey: hex.EncodeToString(pub)})
	hr, _ := http.NewRequest("POST", e.http.URL+api.PathEnrol, bytes.NewReader(body))
	nonce, _ := api.NewNonce()
	api.SignWith(hr, "K9", api.Ed25519Signer{Key: other}, api.BodySHA256(body), time.Now(), nonce)
	if r := e.send(hr); r.code != http.StatusUnauthorized {
		t.Fatalf("enrolment signed with another key = %d %s", r.code, r.body)
	}
}

// TestEnrolSM2: where 国密 is required a kiosk enrols an SM2 key pair and
// signs with it (SM2/SM3, DER); the platform keeps only the public point.
func TestEnrolSM2(t *testing.T) {
	e := newEnv(t, t.TempDir())
	ctx := context.Background()
	code, err := platform.AddEnrolment(ctx, e.store, "GM-0001", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cred, resp, err := client.EnrolAlgorithm(ctx, e.http.URL, "GM-0001", code, api.AlgSM2, nil)
	if err != nil || resp.Algorithm != api.AlgSM2 || !strings.HasPrefix(cred, "sm2:") {
		t.Fatalf("enrol = %+v %v", resp, err)
	}
	c, err := client.New(client.Config{BaseURL: e.http.URL, KioskID: "GM-0001", Token: cred, RetryMax: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Heartbeat(ctx, &api.Heartbeat{KioskID: "GM-0001", Version: "1"}); err != nil {
		t.Fatalf("heartbeat signed with SM2: %v", err)
	}
	// Another SM2 key does not sign for it.
	other, _, err := client.EnrolAlgorithm(ctx, e.http.URL, "GM-0002", "NO-CODE", api.AlgSM2, nil)
	if err == nil {
		t.Fatal("enrolled without a code")
	}
	if other != "" {
		c2, _ := client.New(client.Config{BaseURL: e.http.URL, KioskID: "GM-0001", Token: other, RetryMax: -1})
		if _, err := c2.Heartbeat(ctx, &api.Heartbeat{KioskID: "GM-0001"}); err == nil {
			t.Fatal("another SM2 key signed for GM-0001")
		}
	}
}
