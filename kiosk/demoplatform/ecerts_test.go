package demoplatform

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"onedoor/sync/platform/local"
)

// TestDemoCertificates: the demo cards' certificates are seeded once and
// verify against the keys the platform trusts.
func TestDemoCertificates(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p, err := Start(ctx, dir, "DEMO-01", "clerk", "demo password 123", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := 0; i < 2; i++ { // seeding again adds nothing
		if i > 0 {
			if err := seedECerts(ctx, dir, p.Platform); err != nil {
				t.Fatal(err)
			}
		}
		ref, err := local.OpenECerts(dir, p.Platform.Store, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range demoCerts {
			got, err := ref.Query(ctx, c.id)
			if err != nil || len(got) != 1 || got[0].Number != c.number {
				t.Fatalf("run %d: %s: %+v, %v", i, c.name, got, err)
			}
			if err := ref.Verify(ctx, got[0], time.Now()); err != nil {
				t.Fatalf("%s: %v", c.number, err)
			}
		}
	}
}
