package pgstore

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"onedoor/sync/api"
	"onedoor/sync/platform"
)

func intakeRecord(n int) platform.IntakeRecord {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	req := api.SubmissionRequest{
		UUID:    fmt.Sprintf("00000000-0000-4000-8000-%012d", n),
		Receipt: fmt.Sprintf("K1-20260301-%04d", n), KioskID: "K1", ItemID: "item", ItemVersion: "1", CreatedAt: at,
		Applicant: api.ApplicantData{Name: "测试人", IDNumber: "441900199001011231"},
		Materials: []api.MaterialRef{{MaterialID: "m", Kind: api.KindScan, Pages: []api.BlobRef{{SHA256: fmt.Sprintf("%064x", n), Size: 1, ContentType: "image/png"}}}},
	}
	return platform.IntakeRecord{KioskID: "K1", IdemKey: req.UUID, BodyHash: "h", Req: req, ReceivedAt: at, CasePrefix: "DG"}
}

func plainRender(sr api.SubmissionResponse) (platform.StoredResponse, error) {
	return platform.StoredResponse{Status: 201, Body: []byte(`{"case":"` + sr.CaseNumber + `"}`)}, nil
}

var caseNumberRe = regexp.MustCompile(`DG-2026-\d{6}`)

// instances opens n stores on one test database, as n platformd
// instances share one PostgreSQL; they close when the test ends.
func instances(t *testing.T, n int) []*Store {
	t.Helper()
	url := cluster.DB(t)
	stores := make([]*Store, n)
	for i := range stores {
		s, err := Open(t.Context(), url, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	return stores
}

// TestIntakeOnceAcrossInstances: one submission sent at once through two
// stores (two instances' pools) many times is stored once; every answer is
// the one stored, and exactly one call reports it new.
func TestIntakeOnceAcrossInstances(t *testing.T) {
	stores := instances(t, 2)
	for round := range 5 {
		rec := intakeRecord(round)
		const copies = 12
		bodies := make([]string, copies)
		replays := make([]bool, copies)
		errs := make([]error, copies)
		var wg sync.WaitGroup
		for i := range copies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, replay, err := stores[i%2].CreateSubmission(t.Context(), rec, plainRender)
				bodies[i], replays[i], errs[i] = string(out.Body), replay, err
			}()
		}
		wg.Wait()
		created := 0
		for i := range copies {
			if errs[i] != nil {
				t.Fatalf("round %d copy %d: %v", round, i, errs[i])
			}
			if bodies[i] != bodies[0] || !caseNumberRe.MatchString(bodies[i]) {
				t.Fatalf("round %d: answers %q and %q", round, bodies[0], bodies[i])
			}
			if !replays[i] {
				created++
			}
		}
		if created != 1 {
			t.Fatalf("round %d: %d calls stored the submission", round, created)
		}
		d, err := stores[1].Get(t.Context(), rec.Req.UUID)
		if err != nil || bodies[0] != `{"case":"`+d.CaseNumber+`"}` {
			t.Fatalf("stored case %q (%v), answered %s", d.CaseNumber, err, bodies[0])
		}
	}
	var n int
	if err := stores[0].pool.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM submissions) + (SELECT count(*) FROM status_updates) + (SELECT count(*) FROM submission_blobs)`).Scan(&n); err != nil || n != 15 {
		t.Fatalf("%d rows for 5 submissions with one page each (want 15) %v", n, err)
	}
}

// TestIntakeRenderWithoutToken: an answer that does not carry the case
// number as it was given (here hashed) is rendered again with the real
// number, taken before the intake; a render error stores nothing.
func TestIntakeRenderWithoutToken(t *testing.T) {
	s := open(t)
	defer s.Close()
	hashed := func(sr api.SubmissionResponse) (platform.StoredResponse, error) {
		return platform.StoredResponse{Status: 201, Body: fmt.Appendf(nil, "%x", sha256.Sum256([]byte(sr.CaseNumber)))}, nil
	}
	rec := intakeRecord(1)
	out, replay, err := s.CreateSubmission(t.Context(), rec, hashed)
	if err != nil || replay {
		t.Fatalf("create: %v %v", replay, err)
	}
	d, err := s.Get(t.Context(), rec.Req.UUID)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := hashed(api.SubmissionResponse{CaseNumber: d.CaseNumber}); string(out.Body) != string(want.Body) || !caseNumberRe.MatchString(d.CaseNumber) {
		t.Fatalf("answer %s is not the stored case %s rendered", out.Body, d.CaseNumber)
	}
	again, replay, err := s.CreateSubmission(t.Context(), rec, hashed)
	if err != nil || !replay || string(again.Body) != string(out.Body) {
		t.Fatalf("replay %s %v %v", again.Body, replay, err)
	}

	broken := errors.New("render failed")
	rec = intakeRecord(2)
	if _, _, err := s.CreateSubmission(t.Context(), rec, func(api.SubmissionResponse) (platform.StoredResponse, error) {
		return platform.StoredResponse{}, broken
	}); !errors.Is(err, broken) {
		t.Fatalf("render error: %v", err)
	}
	if _, err := s.Get(t.Context(), rec.Req.UUID); !errors.Is(err, platform.ErrNotFound) {
		t.Fatalf("a failed render stored the submission: %v", err)
	}
	if _, _, err := s.Idempotent(t.Context(), rec.KioskID, rec.IdemKey); !errors.Is(err, platform.ErrNotFound) {
		t.Fatalf("a failed render stored an answer: %v", err)
	}
}

// TestIntakeGroupFailsAsOne: intakes that arrive while another commits are
// sent as one group; when one of them fails (here a NUL in a name, which
// PostgreSQL's text refuses), the group stores nothing and each call is
// made again alone: the good ones are stored once and reported new (not
// as replays of a half-committed group), the bad one gets its error.
func TestIntakeGroupFailsAsOne(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	first := intakeRecord(1)
	// Hold the first intake's key from another session, so the sender
	// waits on it while the next three queue up behind it.
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtextextended($1 || chr(31) || $2, 0))`, first.KioskID, first.IdemKey); err != nil {
		t.Fatal(err)
	}
	type result struct {
		replay bool
		err    error
	}
	results := make([]result, 4)
	var wg sync.WaitGroup
	run := func(i int, rec platform.IntakeRecord) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, replay, err := s.CreateSubmission(ctx, rec, plainRender)
			results[i] = result{replay, err}
		}()
	}
	run(0, first)
	// Wait until the sender is inside PostgreSQL, waiting on the lock.
	for waiting := false; !waiting; {
		if err := s.pool.QueryRow(ctx, `SELECT EXISTS(SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted)`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	waitHanding := func(n int64) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); s.handing.Load() != n; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d intakes waiting to be handed over after a minute, want %d", s.handing.Load(), n)
			}
		}
	}
	waitHanding(0) // the first one's caller has seen its hand-over
	bad := intakeRecord(3)
	bad.Req.Applicant.Name = "测\x00试"
	run(1, intakeRecord(2))
	run(2, bad)
	run(3, intakeRecord(4))
	// All three wait to be handed over (a fixed 500 ms here could pass
	// before a starved goroutine got there, and split the group).
	waitHanding(3)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock(hashtextextended($1 || chr(31) || $2, 0))`, first.KioskID, first.IdemKey); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, want := range []bool{true, true, false, true} {
		if got := results[i].err == nil; got != want {
			t.Errorf("intake %d: err %v", i, results[i].err)
		}
		if results[i].replay {
			t.Errorf("intake %d reported as a replay", i)
		}
	}
	if n := s.regrouped.Load(); n != 3 {
		t.Errorf("%d calls sent again alone, want the group of 3", n)
	}
	for _, n := range []int{1, 2, 4} {
		rec := intakeRecord(n)
		if _, _, err := s.Idempotent(ctx, rec.KioskID, rec.IdemKey); err != nil {
			t.Errorf("intake %d not stored: %v", n, err)
		}
	}
	var count int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM submissions`).Scan(&count); err != nil || count != 3 {
		t.Fatalf("%d submissions stored (%v), want 3", count, err)
	}
}

// TestCaseSequenceCreatedOnceAcrossInstances: many instances taking the
// first case number of a new year at once all get the one sequence. Plain
// CREATE SEQUENCE IF NOT EXISTS let one of them fail with 42P07 (what CI
// saw on the conformance suite's concurrent writers).
func TestCaseSequenceCreatedOnceAcrossInstances(t *testing.T) {
	stores := instances(t, 8)
	for round := range 40 {
		year := 2100 + round
		errs := make([]error, len(stores))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, s := range stores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = s.caseSequence(t.Context(), year)
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("year %d instance %d: %v", year, i, err)
			}
		}
	}
}
