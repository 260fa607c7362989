package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"onedoor/internal/testdate"
	"onedoor/sync/api"
	"onedoor/sync/platform"
	"onedoor/sync/platform/supervise"
)

// SuperviseStore is a store that also keeps supervision (issue 14).
type SuperviseStore interface {
	platform.Store
	supervise.Store
}

// RunSupervise runs the supervision conformance tests (staff roles,
// kiosks' towns, the facts refresh, statistics, case lists, follow-up
// tasks) against stores from open, which must implement supervise.Store.
func RunSupervise(t *testing.T, open Opener) {
	ctx := context.Background()
	// A Monday in a week without holidays (the calendar used is Monday to
	// Friday: no holiday file).
	mon := testdate.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	w := supervise.NewWorkdays(nil)
	fresh := func(t *testing.T) SuperviseStore {
		s := open(t)
		t.Cleanup(func() { s.Close() })
		ss, ok := s.(SuperviseStore)
		if !ok {
			t.Skipf("%T does not implement supervise.Store", s)
		}
		return ss
	}

	t.Run("roles", func(t *testing.T) {
		s := fresh(t)
		if err := s.AddStaff(ctx, "li", "hash", mon); err != nil {
			t.Fatal(err)
		}
		if _, err := s.StaffRole(ctx, "li"); !errors.Is(err, platform.ErrNotFound) {
			t.Fatalf("role before one is given: %v", err)
		}
		a := supervise.Account{User: "li", Name: "李四", Role: supervise.RoleClerk, Town: "石龙镇", SetBy: "admin", SetAt: mon}
		if err := s.SetStaffRole(ctx, a); err != nil {
			t.Fatal(err)
		}
		if got, err := s.StaffRole(ctx, "li"); err != nil || got != a {
			t.Fatalf("role = %+v %v", got, err)
		}
		a.Role, a.Town = supervise.RoleApprover, ""
		if err := s.SetStaffRole(ctx, a); err != nil {
			t.Fatal(err)
		}
		if got, err := s.StaffRole(ctx, "li"); err != nil || got != a {
			t.Fatalf("changed role = %+v %v", got, err)
		}
		if err := s.SetStaffRole(ctx, supervise.Account{User: "nobody", Role: supervise.RoleClerk}); !errors.Is(err, platform.ErrNotFound) {
			t.Fatalf("role of an unknown account: %v", err)
		}
		if err := s.SetStaffRole(ctx, supervise.Account{User: "li", Role: "king"}); err == nil {
			t.Fatal("unknown role accepted")
		}
		if err := s.AddStaff(ctx, "wang", "hash", mon); err != nil {
			t.Fatal(err)
		}
		accts, err := s.StaffAccounts(ctx)
		if err != nil || len(accts) != 2 || accts[0].User != "li" || accts[0].Role != supervise.RoleApprover || accts[1].User != "wang" || accts[1].Role != "" {
			t.Fatalf("accounts = %+v %v", accts, err)
		}
	})

	t.Run("towns", func(t *testing.T) {
		s := fresh(t)
		for k, town := range map[string]string{"K1": "石龙镇", "K2": "虎门镇"} {
			if err := s.SetKioskTown(ctx, k, town); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SetKioskTown(ctx, "K2", "长安镇"); err != nil {
			t.Fatal(err)
		}
		m, err := s.KioskTowns(ctx)
		if err != nil || len(m) != 2 || m["K1"] != "石龙镇" || m["K2"] != "长安镇" {
			t.Fatalf("towns = %v %v", m, err)
		}
		if err := s.SetKioskTown(ctx, "K1", ""); err != nil {
			t.Fatal(err)
		}
		if m, _ := s.KioskTowns(ctx); len(m) != 1 {
			t.Fatalf("towns after removal = %v", m)
		}
	})

	t.Run("facts, stats and follow-ups", func(t *testing.T) {
		s := fresh(t)
		for _, k := range []string{"K1", "K2"} {
			if err := s.AddKiosk(ctx, k, "tok", mon); err != nil {
				t.Fatal(err)
			}
		}
		s.SetKioskTown(ctx, "K1", "A镇")
		s.SetKioskTown(ctx, "K2", "B镇")
		ref := supervise.Refresher{Store: s, Workdays: w, Limits: supervise.Limits{"item": {Value: 3, Unit: "workday"}}}
		// A cache loaded while the store is empty follows it by refreshes.
		early := ref
		early.Cache = supervise.NewCache()
		if err := early.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		uuids := map[int]string{}
		// Case n is received on Monday at 9:00 + n minutes; the plan
		// says what staff do with it and when (days after Monday).
		plan := []struct {
			kiosk string
			steps [][2]any // status, day offset
		}{
			{"K1", [][2]any{{api.StatusAccepted, 0}, {api.StatusApproved, 2}}}, // 2 days, on time
			{"K1", [][2]any{{api.StatusAccepted, 0}, {api.StatusRejected, 4}}}, // 4 days, late (due Thursday)
			{"K1", [][2]any{{api.StatusReturned, 1}}},                          // returned
			{"K2", [][2]any{{api.StatusAccepted, 0}}},                          // open, due Thursday
			{"K2", nil}, // received only
		}
		for i, p := range plan {
			n := i + 1
			r := sub(p.kiosk, n)
			uuids[n] = r.UUID
			recv := mon.Add(time.Duration(n) * time.Minute)
			if _, _, err := s.CreateSubmission(ctx, platform.IntakeRecord{KioskID: p.kiosk, IdemKey: r.UUID, BodyHash: "h", Req: r, ReceivedAt: recv, CasePrefix: "T"}, render); err != nil {
				t.Fatal(err)
			}
			for _, st := range p.steps {
				if _, err := s.Decide(ctx, r.UUID, st[0].(string), "缺少材料", fmt.Sprintf("staff%d", n), recv.AddDate(0, 0, st[1].(int)).Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
		}
		rr := func(r api.RatingResponse) (platform.StoredResponse, error) {
			return platform.StoredResponse{Status: 201, Body: []byte(r.UUID)}, nil
		}
		for i, lvl := range []int{1, 5, 2} {
			n := i + 1
			rt := api.Rating{UUID: fmt.Sprintf("00000000-0000-4000-9000-%012d", n), Receipt: sub("K1", n).Receipt, Level: lvl, Reason: "等太久", At: mon}
			if _, _, err := s.AddRating(ctx, platform.RatingRecord{KioskID: "K1", IdemKey: rt.UUID, BodyHash: "r", Rating: rt, ReceivedAt: mon.AddDate(0, 0, 5)}, rr); err != nil {
				t.Fatal(err)
			}
		}
		for range 2 { // a second refresh finds nothing new and changes nothing
			if err := ref.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
		}
		today := supervise.DayOf(mon)
		f, ok, err := s.CaseFacts(ctx, 1)
		if err != nil || !ok || f.Staff != "staff1" || f.Town != "A镇" || f.WorkDays != 2 || !f.OnTime || f.Due != w.Add(today, 3) {
			t.Fatalf("facts of case 1 = %+v %v %v", f, ok, err)
		}
		res, err := s.Stats(ctx, supervise.Query{From: today, To: today + 30, By: supervise.ByTown})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Groups) != 2 || res.Groups[0].Key != "A镇" || res.Groups[1].Key != "B镇" {
			t.Fatalf("groups = %+v", res.Groups)
		}
		a, b := res.Groups[0], res.Groups[1]
		if a.Received != 3 || a.Decided != 3 || a.FirstTime != 2 || a.Returned != 1 || a.OnTime != 2 || a.Median() != 2 || a.P90() != 4 ||
			a.Ratings[1] != 1 || a.Ratings[2] != 1 || a.Ratings[5] != 1 || b.Received != 2 || b.Decided != 0 {
			t.Fatalf("A = %+v, B = %+v", a, b)
		}
		if len(res.ReturnReasons) != 1 || res.ReturnReasons[0].N != 1 || len(res.RatingReasons) != 3 {
			t.Fatalf("reasons = %+v %+v", res.ReturnReasons, res.RatingReasons)
		}
		if res, err := s.Stats(ctx, supervise.Query{From: today, To: today + 30, By: supervise.ByItem, Scope: supervise.Scope{Town: "B镇"}}); err != nil || res.Total.Received != 2 {
			t.Fatalf("scoped stats = %+v %v", res.Total, err)
		}
		// Thursday is case 4's due day: overdue on Friday, not before.
		thu, fri := w.Add(today, 3), w.Add(today, 4)
		for _, c := range []struct {
			q    supervise.CaseQuery
			want int
		}{
			{supervise.CaseQuery{}, 5},
			{supervise.CaseQuery{Open: true}, 2},
			{supervise.CaseQuery{Overdue: true, Today: thu}, 0},
			{supervise.CaseQuery{Overdue: true, Today: fri}, 2},
			{supervise.CaseQuery{DueSoon: true, Today: today, DueSoonBy: w.Add(today, 2)}, 0},
			{supervise.CaseQuery{DueSoon: true, Today: w.Add(today, 1), DueSoonBy: w.Add(today, 3)}, 2},
			{supervise.CaseQuery{Scope: supervise.Scope{Town: "A镇"}}, 3},
			{supervise.CaseQuery{Receipt: sub("K1", 2).Receipt}, 1},
			{supervise.CaseQuery{Receipt: "no-such-receipt"}, 0},
		} {
			rows, total, err := s.Cases(ctx, c.q)
			if err != nil || total != c.want || len(rows) != c.want {
				t.Errorf("cases %+v = %d (%d rows) %v, want %d", c.q, total, len(rows), err, c.want)
			}
			if n, err := s.CountCases(ctx, c.q); err != nil || n != c.want {
				t.Errorf("count %+v = %d %v", c.q, n, err)
			}
		}
		rows, _, _ := s.Cases(ctx, supervise.CaseQuery{})
		if len(rows) == 0 || !rows[0].Open || rows[0].UUID == "" || rows[0].CaseNumber == "" {
			t.Fatalf("first case row = %+v (open cases come first)", rows)
		}

		// Two bad ratings opened two tasks, due 15 working days after the
		// rating arrived.
		tasks, err := s.FollowUps(ctx, supervise.FollowUpQuery{Open: true})
		if err != nil || len(tasks) != 2 {
			t.Fatalf("tasks = %+v %v", tasks, err)
		}
		tk := tasks[0]
		opened := supervise.DayOf(mon.AddDate(0, 0, 5))
		if tk.Town != "A镇" || tk.Opened != opened || tk.Due != w.Add(opened, supervise.FollowUpDays) || tk.Next() != supervise.StepAssign {
			t.Fatalf("task = %+v", tk)
		}
		if n, err := s.CountFollowUps(ctx, supervise.FollowUpQuery{Overdue: true, Today: tk.Due + 1}); err != nil || n != 2 {
			t.Fatalf("overdue tasks = %d %v", n, err)
		}
		if err := s.AddStep(ctx, tk.ID, supervise.Step{Kind: supervise.StepVerify, Text: "x", Actor: "sup", At: mon}); !errors.Is(err, platform.ErrBadTransition) {
			t.Fatalf("step out of order: %v", err)
		}
		for _, k := range supervise.StepOrder {
			if err := s.AddStep(ctx, tk.ID, supervise.Step{Kind: k, Text: k + " text", Actor: "sup", At: mon}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.FollowUp(ctx, tk.ID)
		if err != nil || !got.Closed || len(got.Steps) != 5 || got.Steps[3].Text != "reply text" || got.Steps[4].Actor != "sup" || !got.Steps[4].At.Equal(mon) {
			t.Fatalf("closed task = %+v %v", got, err)
		}
		if err := s.AddStep(ctx, tk.ID, supervise.Step{Kind: supervise.StepRevisit, Text: "again", Actor: "sup", At: mon}); !errors.Is(err, platform.ErrBadTransition) {
			t.Fatalf("step on a closed task: %v", err)
		}
		if _, err := s.FollowUp(ctx, 999); !errors.Is(err, platform.ErrNotFound) {
			t.Fatalf("unknown task: %v", err)
		}
		if ts, err := s.FollowUps(ctx, supervise.FollowUpQuery{Receipt: got.Receipt}); err != nil || len(ts) != 1 || !ts[0].Closed {
			t.Fatalf("tasks by receipt = %+v %v", ts, err)
		}
		// A new decision re-derives the case; its rating stays.
		if _, err := s.Decide(ctx, uuids[4], api.StatusApproved, "", "boss", mon.AddDate(0, 0, 3)); err != nil {
			t.Fatal(err)
		}
		if err := ref.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if f, _, _ := s.CaseFacts(ctx, 4); f.Open || f.Status != api.StatusApproved || f.WorkDays != 3 {
			t.Fatalf("facts after a later decision = %+v", f)
		}
		if res, _ := s.Stats(ctx, supervise.Query{From: today, To: today + 30, By: supervise.ByKiosk}); res.Total.Decided != 4 || res.Total.RatingCount() != 3 {
			t.Fatalf("totals after a later decision = %+v", res.Total)
		}

		// The in-memory cache gives the store's numbers, whether it
		// followed the store or was loaded from it now (EachFact).
		if err := early.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		late := ref
		late.Cache = supervise.NewCache()
		if err := late.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		n := 0
		if err := s.EachFact(ctx, func(f supervise.FactRow) error {
			n++
			if f.SubmissionID == 1 && (f.Rating != 1 || f.RatingReason != "等太久" || f.Rated != supervise.DayOf(mon.AddDate(0, 0, 5))) {
				t.Errorf("fact row 1 = %+v", f)
			}
			return nil
		}); err != nil || n != 5 || late.Cache.Len() != 5 || early.Cache.Len() != 5 {
			t.Fatalf("EachFact gave %d (%v); caches hold %d and %d", n, err, late.Cache.Len(), early.Cache.Len())
		}
		for _, q := range []supervise.Query{
			{From: today, To: today + 30, By: supervise.ByTown},
			{From: today, To: today + 30, By: supervise.ByStaff},
			{From: today, To: today + 2, By: supervise.ByKiosk},
			{From: today, To: today + 30, By: supervise.ByItem, Scope: supervise.Scope{Town: "A镇"}},
			{From: today, To: today + 30, By: supervise.ByItem, Scope: supervise.Scope{Town: "Z镇"}},
		} {
			want, err := s.Stats(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for name, c := range map[string]*supervise.Cache{"following": early.Cache, "loaded": late.Cache} {
				got, err := c.Stats(q)
				if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s cache stats %+v:\n got  %+v\n want %+v (%v)", name, q, got, want, err)
				}
			}
		}
	})
}
