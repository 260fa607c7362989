// Package storetest is the conformance suite for platform.Store
// implementations: the SQLite store runs it, and a PostgreSQL store must
// pass it too before the platform may use it.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"onedoor/internal/testdate"
	"onedoor/sync/api"
	"onedoor/sync/platform"
)

// Opener returns a fresh, empty store; the suite closes it.
type Opener func(t *testing.T) platform.Store

var caseRe = regexp.MustCompile(`^T-\d{4}-\d{6}$`)

func sub(kiosk string, n int) api.SubmissionRequest {
	created := testdate.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	return api.SubmissionRequest{
		UUID:    fmt.Sprintf("00000000-0000-4000-8000-%012d", n),
		Receipt: fmt.Sprintf("%s-%s-%04d", kiosk, created.Format("20060102"), n), KioskID: kiosk, ItemID: "item", ItemVersion: "1",
		CreatedAt: created,
		Applicant: api.ApplicantData{Name: "测试人", IDNumber: "441900199001011231"},
		Materials: []api.MaterialRef{{MaterialID: "m", Kind: api.KindScan, Pages: []api.BlobRef{
			{SHA256: fmt.Sprintf("%064x", n), Size: 1, ContentType: "image/png"},
			{SHA256: fmt.Sprintf("%064x", n+1000000), Size: 1, ContentType: "image/png"}}}},
	}
}

func render(sr api.SubmissionResponse) (platform.StoredResponse, error) {
	return platform.StoredResponse{Status: 201, Body: []byte(sr.CaseNumber + "|" + sr.UUID + "|" + sr.ReceivedAt.Format(time.RFC3339Nano))}, nil
}

func create(ctx context.Context, s platform.Store, kiosk string, n int, hash string, at time.Time) (platform.StoredResponse, bool, error) {
	r := sub(kiosk, n)
	return s.CreateSubmission(ctx, platform.IntakeRecord{KioskID: kiosk, IdemKey: r.UUID, BodyHash: hash, Req: r, ReceivedAt: at, CasePrefix: "T"}, render)
}

// Run runs every conformance test against stores from open.
func Run(t *testing.T, open Opener) {
	ctx := context.Background()
	at := testdate.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	fresh := func(t *testing.T) platform.Store {
		s := open(t)
		t.Cleanup(func() { s.Close() })
		return s
	}

	t.Run("kiosks", func(t *testing.T) {
		s := fresh(t)
		if err := s.AddKiosk(ctx, "K1", "tok", at); err != nil {
			t.Fatal(err)
		}
		if err := s.AddKiosk(ctx, "K1", "other", at); !errors.Is(err, platform.ErrExists) {
			t.Fatalf("duplicate kiosk: %v", err)
		}
		if tok, err := s.KioskToken(ctx, "K1"); err != nil || tok != "tok" {
			t.Fatalf("token = %q %v", tok, err)
		}
		if _, err := s.KioskToken(ctx, "K2"); !errors.Is(err, platform.ErrNotFound) {
			t.Fatalf("unknown kiosk: %v", err)
		}
		if err := s.RecordHeartbeat(ctx, api.Heartbeat{KioskID: "K1", QueueDepth: 4}, at); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordHeartbeat(ctx, api.Heartbeat{KioskID: "K9"}, at); !errors.Is(err, platform.ErrNotFound) {
			t.Fatalf("heartbeat of unknown kiosk: %v", err)
		}
		ks, err := s.Kiosks(ctx)
		if err != nil || len(ks) != 1 || ks[0].Heartbeat == nil || ks[0].Heartbeat.QueueDepth != 4 || !ks[0].LastSeen.Equal(at) {
			t.Fatalf("kiosks = %+v %v", ks, err)
		}
	})

	t.Run("idempotent intake", func(t *testing.T) {
		s := fresh(t)
		first, replay, err := create(ctx, s, "K1", 1, "h1", at)
		if err != nil || replay || first.Status != 201 {
			t.Fatalf("create = %+v %v %v", first, replay, err)
		}
		again, replay, err := create(ctx, s, "K1", 1, "h1", at.Add(time.Hour))
		if err != nil || !replay || string(again.Body) != string(first.Body) {
			t.Fatalf("replay = %s %v %v, first %s", again.Body, replay, err, first.Body)
		}
		if _, _, err := create(ctx, s, "K1", 1, "h2", at); !errors.Is(err, platform.ErrIdempotencyConflict) {
			t.Fatalf("different body: %v", err)
		}
		// Same UUID under another kiosk's key scope.
		if _, _, err := create(ctx, s, "K2", 1, "h1", at); !errors.Is(err, platform.ErrExists) {
			t.Fatalf("uuid reused by another kiosk: %v", err)
		}
		h, stored, err := s.Idempotent(ctx, "K1", sub("K1", 1).UUID)
		if err != nil || h != "h1" || string(stored.Body) != string(first.Body) {
			t.Fatalf("Idempotent = %q %s %v", h, stored.Body, err)
		}
		if _, _, err := s.Idempotent(ctx, "K2", sub("K1", 1).UUID); !errors.Is(err, platform.ErrNotFound) {
			t.Fatalf("keys are per kiosk: %v", err)
		}
	})

	t.Run("case numbers unique under concurrency", func(t *testing.T) {
		s := fresh(t)
		const n = 40
		var wg sync.WaitGroup
		bodies := make([]string, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, _, err := create(ctx, s, "K1", i, "h", at)
				if err != nil {
					t.Error(err)
				}
				bodies[i] = string(r.Body)
			}()
		}
		wg.Wait()
		seen := map[string]bool{}
		for _, b := range bodies {
			cn := regexp.MustCompile(`^[^|]*`).FindString(b)
			if !caseRe.MatchString(cn) || seen[cn] {
				t.Fatalf("case number %q (seen before: %v)", cn, seen[cn])
			}
			seen[cn] = true
		}
	})

	t.Run("statuses and decisions", func(t *testing.T) {
		s := fresh(t)
		for i, k := range []string{"K1", "K2", "K1"} {
			if _, _, err := create(ctx, s, k, i, "h", at); err != nil {
				t.Fatal(err)
			}
		}
		ups, cur, err := s.Statuses(ctx, "K1", 0, 100)
		if err != nil || len(ups) != 2 || ups[0].Status != api.StatusReceived || ups[0].UUID != sub("K1", 0).UUID {
			t.Fatalf("K1 feed = %+v %v", ups, err)
		}
		u := sub("K1", 2).UUID
		if _, err := s.Decide(ctx, u, api.StatusAccepted, "", "clerk", at); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Decide(ctx, u, api.StatusReturned, "补正", "clerk", at); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Decide(ctx, u, api.StatusApproved, "", "clerk", at); !errors.Is(err, platform.ErrBadTransition) {
			t.Fatalf("decision on a returned case: %v", err)
		}
		if _, err := s.Decide(ctx, "00000000-0000-4000-8000-999999999999", api.StatusAccepted, "", "clerk", at); !errors.Is(err, platform.ErrNotFound) {
			t.Fatalf("unknown case: %v", err)
		}
		ups, cur2, err := s.Statuses(ctx, "K1", cur, 100)
		if err != nil || len(ups) != 2 || ups[1].Status != api.StatusReturned || ups[1].Note != "补正" || cur2 <= cur {
			t.Fatalf("feed after decisions = %+v cursor %d -> %d %v", ups, cur, cur2, err)
		}
		if ups, cur3, _ := s.Statuses(ctx, "K1", cur2, 100); len(ups) != 0 || cur3 != cur2 {
			t.Fatalf("empty feed = %+v cursor %d", ups, cur3)
		}
		if ups, _, _ := s.Statuses(ctx, "K1", 0, 1); len(ups) != 1 {
			t.Fatalf("limit ignored: %d", len(ups))
		}
		d, err := s.Track(ctx, sub("K1", 2).Receipt)
		if err != nil || d.Status != api.StatusReturned || len(d.History) != 3 || d.Request.Applicant.IDNumber == "" {
			t.Fatalf("track = %+v %v", d, err)
		}
		if _, err := s.Get(ctx, "nope"); !errors.Is(err, platform.ErrNotFound) {
			t.Fatalf("get unknown: %v", err)
		}
		counts, err := s.CountByStatus(ctx)
		if err != nil || counts[api.StatusReceived] != 2 || counts[api.StatusReturned] != 1 {
			t.Fatalf("counts = %v %v", counts, err)
		}
	})

	t.Run("list, blobs and export", func(t *testing.T) {
		s := fresh(t)
		for i := 0; i < 5; i++ {
			k := "K1"
			if i%2 == 1 {
				k = "K2"
			}
			if _, _, err := create(ctx, s, k, i, "h", at.Add(time.Duration(i)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		rows, total, err := s.List(ctx, platform.Filter{KioskID: "K2", Limit: 10})
		if err != nil || total != 2 || len(rows) != 2 || rows[0].Receipt != sub("K2", 3).Receipt {
			t.Fatalf("list K2 = %+v total %d %v", rows, total, err)
		}
		rows, total, _ = s.List(ctx, platform.Filter{Query: sub("K1", 4).Receipt})
		if total != 1 || rows[0].IDNumber == "" {
			t.Fatalf("search = %+v", rows)
		}
		if _, total, _ := s.List(ctx, platform.Filter{Query: "%"}); total != 0 {
			t.Fatalf("a %% in the query matched %d rows", total)
		}
		if _, total, _ := s.List(ctx, platform.Filter{Limit: 2, Offset: 4}); total != 5 {
			t.Fatalf("total = %d", total)
		}
		if ok, err := s.SubmissionHasBlob(ctx, fmt.Sprintf("%064x", 3)); err != nil || !ok {
			t.Fatalf("has blob = %v %v", ok, err)
		}
		if ok, _ := s.SubmissionHasBlob(ctx, fmt.Sprintf("%064x", 77)); ok {
			t.Fatal("blob of no submission found")
		}
		var got []platform.ExportRow
		if err := s.Export(ctx, func(r platform.ExportRow) error { got = append(got, r); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(got) != 5 || got[2].UUID != sub("K1", 2).UUID || len(got[2].Blobs) != 2 || got[2].Blobs[1] != fmt.Sprintf("%064x", 1000002) {
			t.Fatalf("export = %+v", got)
		}
	})

	t.Run("ratings", func(t *testing.T) {
		s := fresh(t)
		rt := api.Rating{UUID: "00000000-0000-4000-8000-000000000042", Level: 4, At: at}
		rec := platform.RatingRecord{KioskID: "K1", IdemKey: rt.UUID, BodyHash: "r1", Rating: rt, ReceivedAt: at}
		rr := func(r api.RatingResponse) (platform.StoredResponse, error) {
			return platform.StoredResponse{Status: 201, Body: []byte(r.UUID)}, nil
		}
		if _, replay, err := s.AddRating(ctx, rec, rr); err != nil || replay {
			t.Fatalf("rating = %v %v", replay, err)
		}
		if _, replay, err := s.AddRating(ctx, rec, rr); err != nil || !replay {
			t.Fatalf("rating replay = %v %v", replay, err)
		}
		rec.BodyHash = "r2"
		if _, _, err := s.AddRating(ctx, rec, rr); !errors.Is(err, platform.ErrIdempotencyConflict) {
			t.Fatalf("changed rating: %v", err)
		}
	})

	t.Run("history actors", func(t *testing.T) {
		s := fresh(t)
		if _, _, err := create(ctx, s, "K1", 1, "h", at); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Decide(ctx, sub("K1", 1).UUID, api.StatusAccepted, "", "clerk-wang", at); err != nil {
			t.Fatal(err)
		}
		d, err := s.Get(ctx, sub("K1", 1).UUID)
		if err != nil || len(d.Actors) != len(d.History) || len(d.Actors) != 2 || d.Actors[1] != "clerk-wang" {
			t.Fatalf("actors = %q for %d updates %v", d.Actors, len(d.History), err)
		}
	})

	t.Run("kiosk uploads", func(t *testing.T) {
		s := fresh(t)
		a, b := fmt.Sprintf("%064x", 0xa), fmt.Sprintf("%064x", 0xb)
		if err := s.NoteUpload(ctx, "K1", a, 100, at); err != nil {
			t.Fatal(err)
		}
		if err := s.NoteUpload(ctx, "K1", b, 200, at.Add(-48*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.NoteUpload(ctx, "K1", a, 100, at.Add(time.Minute)); err != nil { // progress
			t.Fatal(err)
		}
		us, err := s.Unfinished(ctx, "K1", at.Add(-24*time.Hour))
		if err != nil || len(us) != 1 || us[0].SHA256 != a || us[0].Length != 100 || !us[0].LastAt.Equal(at.Add(time.Minute)) {
			t.Fatalf("unfinished = %+v %v", us, err)
		}
		if us, _ := s.Unfinished(ctx, "K2", time.Time{}); len(us) != 0 {
			t.Fatalf("another kiosk's uploads: %+v", us)
		}
		if err := s.NoteUpload(ctx, "K2", a, 100, at); err != nil {
			t.Fatal(err)
		}
		if err := s.UploadDone(ctx, a); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"K1", "K2"} {
			if us, _ := s.Unfinished(ctx, k, at.Add(-24*time.Hour)); len(us) != 0 {
				t.Fatalf("%s: done upload still unfinished: %+v", k, us)
			}
		}
		for _, tc := range []struct {
			kiosk, sha string
			want       bool
		}{{"K1", a, true}, {"K1", b, true}, {"K3", a, false}, {"K3", fmt.Sprintf("%064x", 1), false}} {
			if ok, err := s.KioskKnowsBlob(ctx, tc.kiosk, tc.sha); err != nil || ok != tc.want {
				t.Fatalf("KioskKnowsBlob(%s, %s) = %v %v", tc.kiosk, tc.sha, ok, err)
			}
		}
		// Named in a stored submission counts too.
		if _, _, err := create(ctx, s, "K3", 1, "h", at); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.KioskKnowsBlob(ctx, "K3", fmt.Sprintf("%064x", 1)); !ok {
			t.Fatal("a blob K3's submission names is not known to K3")
		}
		if ok, _ := s.KioskKnowsBlob(ctx, "K1", fmt.Sprintf("%064x", 1)); ok {
			t.Fatal("K3's blob is known to K1")
		}
	})

	t.Run("lookups and who may rate", func(t *testing.T) {
		s := fresh(t)
		if _, _, err := create(ctx, s, "K1", 1, "h", at); err != nil {
			t.Fatal(err)
		}
		r := sub("K1", 1).Receipt
		check := func(kiosk, receipt string, exists, allowed bool) {
			t.Helper()
			e, a, err := s.MayRate(ctx, kiosk, receipt)
			if err != nil || e != exists || a != allowed {
				t.Fatalf("MayRate(%s, %s) = %v %v %v, want %v %v", kiosk, receipt, e, a, err, exists, allowed)
			}
		}
		check("K1", r, true, true)
		check("K2", r, true, false)
		check("K1", "K1-20260101-9999", false, false)
		if err := s.RecordLookup(ctx, "K2", r, at); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordLookup(ctx, "K2", r, at.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		check("K2", r, true, true)
		check("K3", r, true, false)
	})

	t.Run("statuses feed under concurrent writers", func(t *testing.T) {
		if err := CheckFeed(ctx, fresh(t), 16, 30); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("enrolment", func(t *testing.T) { enrolment(t, fresh(t), at) })

	t.Run("staff and sessions", func(t *testing.T) {
		s := fresh(t)
		if err := s.AddStaff(ctx, "clerk", "hash", at); err != nil {
			t.Fatal(err)
		}
		if err := s.AddStaff(ctx, "clerk", "hash", at); !errors.Is(err, platform.ErrExists) {
			t.Fatalf("duplicate staff: %v", err)
		}
		if h, err := s.StaffHash(ctx, "clerk"); err != nil || h != "hash" {
			t.Fatalf("hash = %q %v", h, err)
		}
		if _, err := s.StaffHash(ctx, "nobody"); !errors.Is(err, platform.ErrNotFound) {
			t.Fatalf("unknown staff: %v", err)
		}
		now := time.Now()
		if err := s.CreateSession(ctx, platform.Session{IDHash: "s1", User: "clerk", CSRF: "c", Expires: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if se, err := s.Session(ctx, "s1", now); err != nil || se.User != "clerk" {
			t.Fatalf("session = %+v %v", se, err)
		}
		if _, err := s.Session(ctx, "s1", now.Add(2*time.Hour)); !errors.Is(err, platform.ErrNotFound) {
			t.Fatalf("expired session: %v", err)
		}
		if err := s.DeleteSession(ctx, "s1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, "s1", now); !errors.Is(err, platform.ErrNotFound) {
			t.Fatalf("deleted session: %v", err)
		}
		if err := s.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
