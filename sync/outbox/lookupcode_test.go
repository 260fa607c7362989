package outbox_test

import (
	"context"
	"testing"

	"onedoor/sync/api"
)

// TestLookupCodeOnReceipt: Submit makes a lookup code for the receipt and
// the queued request carries only its hash, the same on every claim (the
// platform compares replays byte for byte).
func TestLookupCodeOnReceipt(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	s := e.open(t)
	rc, err := s.Submit(ctx, sampleSubmission(1, 100))
	if err != nil {
		t.Fatal(err)
	}
	if !api.IsLookupCode(rc.LookupCode) {
		t.Fatalf("receipt lookup code %q", rc.LookupCode)
	}
	p, err := s.NextDue(ctx, e.clock.Now())
	if err != nil || p == nil {
		t.Fatalf("NextDue = %v %v", p, err)
	}
	if p.Request.LookupCodeSHA256 != api.LookupCodeSHA256(rc.LookupCode) {
		t.Fatalf("request carries %q, want the hash of the receipt's code", p.Request.LookupCodeSHA256)
	}
	if err := p.Request.Validate(); err != nil {
		t.Fatal(err)
	}
}
