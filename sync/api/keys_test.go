package api

import (
	"crypto/ed25519"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestEd25519SignVerify(t *testing.T) {
	// RFC 8032 test 1's seed, so the Python client's vectors can match.
	seed := make([]byte, 32)
	copy(seed, []byte{0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60})
	s := Ed25519Signer{Key: ed25519.NewKeyFromSeed(seed)}
	if s.PublicKeyHex() != "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a" {
		t.Fatalf("public key %s", s.PublicKeyHex())
	}
	now := time.Unix(1767225600, 0)
	req, _ := http.NewRequest("POST", "http://p/api/v1/submissions", nil)
	if err := SignWith(req, "K1", s, "", now, "000102030405060708090a0b0c0d0e0f"); err != nil {
		t.Fatal(err)
	}
	cred := Credential{Algorithm: AlgEd25519, Key: s.PublicKeyHex()}
	if _, err := VerifyCredential(req, cred, EmptySHA256, now, nil); err != nil {
		t.Fatalf("verify: %v", err)
	}
	// Any change to what is signed fails; so does the token path.
	req.Header.Set(HeaderNonce, "100102030405060708090a0b0c0d0e0f")
	if _, err := VerifyCredential(req, cred, EmptySHA256, now, nil); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("tampered nonce: %v", err)
	}
	if _, err := VerifyCredential(req, Credential{Algorithm: AlgHMAC, Key: s.PublicKeyHex()}, EmptySHA256, now, nil); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("public key as HMAC token: %v", err)
	}
	if _, err := VerifyCredential(req, Credential{Algorithm: AlgSM2, Key: "04"}, EmptySHA256, now, nil); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("no SM2 verifier plugged in: %v", err)
	}
}

func TestEnrolCode(t *testing.T) {
	c, err := NewEnrolCode()
	if err != nil {
		t.Fatal(err)
	}
	n := NormalizeEnrolCode(strings.ToLower(c))
	if len(c) != 23 || len(n) != EnrolCodeLen || strings.Count(c, "-") != 3 || !IsLookupCode(n[:LookupCodeLen]) {
		t.Fatalf("code %q normalized %q", c, n)
	}
	for _, tc := range []struct{ alg, key string }{{AlgEd25519, strings.Repeat("ab", 32)}, {AlgSM2, "04" + strings.Repeat("ab", 64)}} {
		if err := ValidPublicKey(tc.alg, tc.key); err != nil {
			t.Errorf("%s: %v", tc.alg, err)
		}
	}
	for _, tc := range []struct{ alg, key string }{{AlgEd25519, strings.Repeat("AB", 32)}, {AlgEd25519, "ab"}, {AlgSM2, "02" + strings.Repeat("ab", 64)}, {"rsa", "ab"}} {
		if err := ValidPublicKey(tc.alg, tc.key); err == nil {
			t.Errorf("%s %s accepted", tc.alg, tc.key)
		}
	}
}
