package app

import (
	"context"
	"errors"
	"net/http"
	"onedoor/internal/testdate"
	"testing"
	"time"

	"onedoor/assets"
	"onedoor/drivers/idcard"
	"onedoor/drivers/scanner"
	"onedoor/kiosk/catalog"
	"onedoor/kiosk/flow"
	"onedoor/sync/api"
	"onedoor/sync/client"
	"onedoor/sync/outbox"
)

func TestFlowIdentity(t *testing.T) {
	got := FlowIdentity(idcard.Identity{Name: "王晓梅", Sex: "女", Nation: "汉", BirthDate: "19900612",
		IDNumber: "440305199006120240", ValidFrom: "20200301", ValidTo: idcard.LongTerm})
	want := flow.Identity{Name: "王晓梅", Gender: "女", Nation: "汉", Birth: flow.Date{Year: 1990, Month: 6, Day: 12},
		IDNumber: "440305199006120240", ValidFrom: flow.Date{Year: 2020, Month: 3, Day: 1}, LongTerm: true, FromCard: true}
	if got != want {
		t.Errorf("FlowIdentity = %+v, want %+v", got, want)
	}
}

func TestSubmission(t *testing.T) {
	pages := map[string]scanner.Page{"p1": {JPEG: []byte("jpeg-1")}, "p2": {JPEG: []byte("jpeg-2")}}
	app := flow.Application{
		ItemID: "hh-residence-permit", ItemVersion: 3,
		Applicant: flow.Identity{Name: "王晓梅", IDNumber: "440305199006120240", Birth: flow.Date{Year: 1990, Month: 6, Day: 12}, Nation: "汉"},
		Fields:    []flow.FieldValue{{Name: "phone", Value: "13800138000"}, {Name: "move_in", Value: "2025-03-01"}},
		Materials: []flow.MaterialSubmission{
			{MaterialID: "id_card", How: flow.ProvidedShared},
			{MaterialID: "photo", How: flow.ProvidedScan, PageRefs: []string{"p1", "p2"}},
			{MaterialID: "housing", How: flow.ProvidedPromise, PromiseText: "本人承诺"},
			{MaterialID: "cert", How: flow.ProvidedECert},
		},
	}
	sub, err := Submission(app, pages)
	if err != nil {
		t.Fatal(err)
	}
	if sub.ItemVersion != "3" || sub.Applicant.Phone != "13800138000" || sub.Applicant.BirthDate != "19900612" || sub.Applicant.Ethnicity != "汉" {
		t.Errorf("applicant/version mapped wrong: %+v %q", sub.Applicant, sub.ItemVersion)
	}
	if sub.Form["move_in"] != "2025-03-01" {
		t.Errorf("form %v", sub.Form)
	}
	kinds := map[string]string{}
	for _, m := range sub.Materials {
		kinds[m.MaterialID] = m.Kind
	}
	want := map[string]string{"photo": api.KindScan, "housing": api.KindPromise, "cert": api.KindECert}
	if len(kinds) != len(want) {
		t.Errorf("materials %v, want %v (shared verification sends nothing)", kinds, want)
	}
	for id, k := range want {
		if kinds[id] != k {
			t.Errorf("material %s kind %q, want %q", id, kinds[id], k)
		}
	}
	if n := len(sub.Materials[0].Pages); n != 2 || string(sub.Materials[0].Pages[1].Data) != "jpeg-2" {
		t.Errorf("scanned pages not carried in order: %d", n)
	}

	delete(pages, "p2")
	if _, err := Submission(app, pages); !errors.Is(err, ErrMissingPage) {
		t.Errorf("missing page: err = %v, want ErrMissingPage", err)
	}
}

func TestPlatformStatus(t *testing.T) {
	for in, want := range map[string]string{
		api.StatusReceived: "sent", api.StatusAccepted: "accepted", api.StatusReturned: "need_more",
		api.StatusApproved: "approved", api.StatusRejected: "rejected",
	} {
		if got := PlatformStatus(in); got != flow.Status(want) {
			t.Errorf("PlatformStatus(%q) = %q, want %q", in, got, want)
		}
		if flow.StatusKey(PlatformStatus(in)) == "status.unknown" {
			t.Errorf("status %q has no message", in)
		}
	}
	for _, tc := range []struct {
		rec  outbox.Record
		want string
	}{
		{outbox.Record{}, "received"},
		{outbox.Record{SentAt: time.Now()}, "sent"},
		{outbox.Record{SentAt: time.Now(), PlatformStatus: api.StatusApproved}, "approved"},
	} {
		if got := LocalStatus(tc.rec); got != flow.Status(tc.want) {
			t.Errorf("LocalStatus(%+v) = %q, want %q", tc.rec, got, tc.want)
		}
	}
}

type fakeStore struct {
	Store
	recs map[string]outbox.Record
	// byID are the records of one ID number (LookupByID).
	byID map[string][]outbox.Record
}

func (f fakeStore) LookupByID(_ context.Context, id string) ([]outbox.Record, error) {
	return f.byID[id], nil
}

func (f fakeStore) Lookup(_ context.Context, no string) (outbox.Record, error) {
	if r, ok := f.recs[no]; ok {
		return r, nil
	}
	return outbox.Record{}, outbox.ErrNotFound
}

type fakeTracker struct {
	resp *api.TrackResponse
	err  error
	// proofs, when set, collects the proof sent with each receipt.
	proofs map[string]client.TrackProof
}

func (f fakeTracker) TrackProven(_ context.Context, receipt string, p client.TrackProof) (*api.TrackResponse, error) {
	if f.proofs != nil {
		f.proofs[receipt] = p
	}
	return f.resp, f.err
}

// TestLookupSendsProof: the platform answers a lookup only with proof the
// receipt is the resident's, so a typed receipt number goes with the
// lookup code typed beside it, and a card lookup sends the card's ID
// number (as the holder proof) for each of the card's receipts.
func TestLookupSendsProof(t *testing.T) {
	cat, err := catalog.Parse(assets.SampleCatalog)
	if err != nil {
		t.Fatal(err)
	}
	const no, idNumber = "DG0001-20260310-0001", "440305199006120240"
	rec := outbox.Record{Receipt: no, ItemID: "ss-pension-cert"}
	store := fakeStore{recs: map[string]outbox.Record{no: rec}, byID: map[string][]outbox.Record{idNumber: {rec}}}
	for _, tc := range []struct {
		name  string
		query flow.LookupProgress
		want  client.TrackProof
	}{
		{"typed number and code", flow.LookupProgress{ReceiptNo: no, LookupCode: "7K3QDM9XTA"}, client.TrackProof{LookupCode: "7K3QDM9XTA"}},
		{"card", flow.LookupProgress{IDNumber: idNumber}, client.TrackProof{IDNumber: idNumber}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proofs := map[string]client.TrackProof{}
			tr := fakeTracker{resp: &api.TrackResponse{Receipt: no, ItemID: "ss-pension-cert", Status: api.StatusApproved}, proofs: proofs}
			if _, _, err := Lookup(t.Context(), store, tr, true, cat, tc.query); err != nil {
				t.Fatal(err)
			}
			if got, ok := proofs[no]; !ok || got != tc.want {
				t.Errorf("proof sent for %s: %+v (asked: %v), want %+v", no, got, ok, tc.want)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	cat, err := catalog.Parse(assets.SampleCatalog)
	if err != nil {
		t.Fatal(err)
	}
	const no = "DG0001-20260310-0001"
	at := testdate.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)
	store := fakeStore{recs: map[string]outbox.Record{no: {Receipt: no, ItemID: "ss-pension-cert", CreatedAt: at}}}
	decided := &api.TrackResponse{Receipt: no, ItemID: "ss-pension-cert", Status: api.StatusApproved,
		History: []api.StatusUpdate{{Status: api.StatusReceived, At: at}, {Status: api.StatusApproved, Note: "通过", At: at.Add(time.Hour)}}}
	tests := []struct {
		name        string
		tracker     Tracker
		online      bool
		query       string
		wantStatus  string
		wantNote    string
		wantOffline bool
		wantN       int
	}{
		{"online decision", fakeTracker{resp: decided}, true, no, "approved", "通过", false, 1},
		{"offline", fakeTracker{resp: decided}, false, no, "received", "", true, 1},
		{"link error", fakeTracker{err: errors.New("connection refused")}, true, no, "received", "", true, 1},
		{"not yet on platform", fakeTracker{err: &client.APIError{Status: http.StatusNotFound}}, true, no, "received", "", false, 1},
		{"unknown everywhere", fakeTracker{err: &client.APIError{Status: http.StatusNotFound}}, true, "DG0001-20260310-0999", "", "", false, 0},
		{"no tracker", nil, true, no, "received", "", true, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, offline, err := Lookup(t.Context(), store, tc.tracker, tc.online, cat, flow.LookupProgress{ReceiptNo: tc.query})
			if err != nil {
				t.Fatal(err)
			}
			if offline != tc.wantOffline || len(res) != tc.wantN {
				t.Fatalf("offline=%v n=%d, want %v %d", offline, len(res), tc.wantOffline, tc.wantN)
			}
			if tc.wantN == 0 {
				return
			}
			if res[0].Status != flow.Status(tc.wantStatus) || res[0].Note != tc.wantNote {
				t.Errorf("result %+v, want status %q note %q", res[0], tc.wantStatus, tc.wantNote)
			}
			if res[0].ItemName != "城乡居民养老保险待遇领取资格认证" {
				t.Errorf("item name %q", res[0].ItemName)
			}
		})
	}
}
