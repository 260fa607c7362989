package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"onedoor/internal/testdate"
	"onedoor/sync/api"
	"onedoor/sync/platform"
)

// RunExportCerts checks that Export names the e-certificates a submission
// uses instead of scans (ExportRow.Certs, issue 13), in the order of its
// materials, and none for a submission without.
func RunExportCerts(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	defer s.Close()
	at := testdate.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	plain := sub("K1", 1)
	withCerts := sub("K1", 2)
	withCerts.Materials = append([]api.MaterialRef{{MaterialID: "permit", Kind: api.KindECert, CertNumber: "JZZ-0001"}},
		append(withCerts.Materials, api.MaterialRef{MaterialID: "hukou", Kind: api.KindECert, CertNumber: "HKB-0002"})...)
	for _, r := range []api.SubmissionRequest{plain, withCerts} {
		if _, _, err := s.CreateSubmission(ctx, platform.IntakeRecord{KioskID: "K1", IdemKey: r.UUID, BodyHash: r.UUID, Req: r, ReceivedAt: at, CasePrefix: "T"}, render); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string][]string{}
	if err := s.Export(ctx, func(r platform.ExportRow) error {
		got[r.Receipt] = r.Certs
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if c := got[plain.Receipt]; len(c) != 0 {
		t.Errorf("certificates of a submission without: %q", c)
	}
	if c, want := got[withCerts.Receipt], []string{"JZZ-0001", "HKB-0002"}; !slices.Equal(c, want) {
		t.Errorf("certificates = %q, want %q", c, want)
	}
}
