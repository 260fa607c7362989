package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"onedoor/sync/api"
	"onedoor/sync/platform"
)

// enrolment: one-time codes, key registration, legacy tokens erased.
func enrolment(t *testing.T, s platform.Store, at time.Time) {
	ctx := context.Background()
	key := api.Credential{Algorithm: api.AlgEd25519, Key: "aa"}
	// A new kiosk has no credential until it enrols.
	if err := s.AddEnrolment(ctx, "K1", "code1", at.Add(time.Hour), at); err != nil {
		t.Fatal(err)
	}
	if _, err := s.KioskCredential(ctx, "K1"); !errors.Is(err, platform.ErrNotFound) {
		t.Fatalf("credential before enrolment: %v", err)
	}
	if _, err := s.Enrol(ctx, "K1", "wrong", key, at); !errors.Is(err, platform.ErrNotFound) {
		t.Fatalf("wrong code: %v", err)
	}
	got, err := s.Enrol(ctx, "K1", "code1", key, at.Add(time.Minute))
	if err != nil || !got.Equal(at.Add(time.Minute)) {
		t.Fatalf("enrol = %v %v", got, err)
	}
	if c, err := s.KioskCredential(ctx, "K1"); err != nil || c != key {
		t.Fatalf("credential = %+v %v", c, err)
	}
	// The same request again (lost answer) gets the first answer; another key is refused.
	if again, err := s.Enrol(ctx, "K1", "code1", key, at.Add(2*time.Minute)); err != nil || !again.Equal(got) {
		t.Fatalf("replayed enrolment = %v %v", again, err)
	}
	if _, err := s.Enrol(ctx, "K1", "code1", api.Credential{Algorithm: api.AlgEd25519, Key: "bb"}, at); !errors.Is(err, platform.ErrExists) {
		t.Fatalf("second key with a used code: %v", err)
	}
	// An expired code is refused.
	if err := s.AddEnrolment(ctx, "K2", "code2", at.Add(time.Hour), at); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enrol(ctx, "K2", "code2", key, at.Add(2*time.Hour)); !errors.Is(err, platform.ErrNotFound) {
		t.Fatalf("expired code: %v", err)
	}
	// A token kiosk keeps its token until it enrols, then only the key is kept.
	if err := s.AddKiosk(ctx, "K3", "tok3", at); err != nil {
		t.Fatal(err)
	}
	if err := s.AddEnrolment(ctx, "K3", "code3", at.Add(time.Hour), at); err != nil {
		t.Fatal(err)
	}
	if c, err := s.KioskCredential(ctx, "K3"); err != nil || c != (api.Credential{Algorithm: api.AlgHMAC, Key: "tok3"}) {
		t.Fatalf("token kiosk credential = %+v %v", c, err)
	}
	if _, err := s.Enrol(ctx, "K3", "code3", key, at); err != nil {
		t.Fatal(err)
	}
	if c, err := s.KioskCredential(ctx, "K3"); err != nil || c != key {
		t.Fatalf("migrated kiosk credential = %+v %v", c, err)
	}
	if tok, err := s.KioskToken(ctx, "K3"); err == nil && tok != "" {
		t.Fatalf("token still stored after enrolment: %q", tok)
	}
	ks, err := s.Kiosks(ctx)
	if err != nil || len(ks) != 3 {
		t.Fatalf("kiosks = %+v %v", ks, err)
	}
}
