package flow

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"onedoor/kiosk/catalog"

	"pgregory.net/rapid"
)

// model drives a Machine with random but state-aware events and keeps what
// the properties need: the personal data handed in, and every scan
// reference created, discarded or submitted.
type model struct {
	m       *Machine
	clk     *fakeClock
	cat     *catalog.Catalog
	people  []Identity
	typed   []string // personal values typed into fields
	nextRef int

	good      map[string]bool // refs of pages that passed the blank/blur check
	live      map[string]bool // refs created and not yet discarded
	submitted map[string]bool // refs handed to the outbox, until it answers
	receipts  int
	submits   int
	ends      int

	echo bool // the simulated app echoes ScanPage.Seq
	slow bool // the scanner holds results of ended sessions (see event)
	// favourite is chosen often, so that consecutive sessions meet the same
	// materials (and a late page could pass for the current one).
	favourite string
	epoch     int // sessions ended so far
	pending   []pendingScan
	refEpoch  map[string]int
}

func newModel(t *rapid.T, tb testing.TB) *model {
	m, clk := newTestMachine(tb)
	md := &model{m: m, clk: clk, cat: m.cat, good: map[string]bool{}, live: map[string]bool{}, submitted: map[string]bool{},
		refEpoch: map[string]int{}, echo: rapid.Bool().Draw(t, "echo"), slow: rapid.Bool().Draw(t, "slow")}
	var applicable []string
	for _, it := range md.cat.Items {
		if canApply(&it) {
			applicable = append(applicable, it.ID)
		}
	}
	md.favourite = rapid.SampledFrom(applicable).Draw(t, "favourite")
	// Names from rare characters so that a match in the state cannot be a
	// coincidence with catalog text.
	nameGen := rapid.StringOfN(rapid.RuneFrom([]rune("瓅瓆甴甶瑴璑")), 1, 3, -1)
	for i := 0; i < 2; i++ {
		birth := time.Date(rapid.IntRange(1930, 2008).Draw(t, "year"), time.Month(rapid.IntRange(1, 12).Draw(t, "month")), rapid.IntRange(1, 28).Draw(t, "day"), 0, 0, 0, 0, time.UTC)
		md.people = append(md.people, Identity{
			Name:     "瓅" + nameGen.Draw(t, "name"),
			Gender:   "女",
			Birth:    DateOf(birth),
			Address:  "瓆瓆路" + fmt.Sprint(i),
			IDNumber: validID("441900", birth, rapid.IntRange(0, 999).Draw(t, "seq")),
		})
	}
	return md
}

// ref names a new scanned image, remembering the session it was scanned in.
func (md *model) ref(epoch int) string {
	md.nextRef++
	r := fmt.Sprintf("scan-%d", md.nextRef)
	md.refEpoch[r] = epoch
	return r
}

// pendingScan is a ScanPage effect not yet answered, with the session that
// asked for it.
type pendingScan struct {
	sp    ScanPage
	epoch int
}

// fieldValue draws a value for a field: usually valid, sometimes not.
func (md *model) fieldValue(t *rapid.T, f catalog.Field) string {
	good := rapid.IntRange(0, 5).Draw(t, "good") > 0
	switch f.Kind {
	case "phone":
		if good {
			return "13" + rapid.StringOfN(rapid.RuneFrom([]rune("0123456789")), 9, 9, -1).Draw(t, "phone")
		}
		return rapid.SampledFrom([]string{"", "12345", "2381234567x"}).Draw(t, "badphone")
	case "date":
		if good {
			return rapid.SampledFrom([]string{"20250101", "2024-02-29"}).Draw(t, "date")
		}
		return rapid.SampledFrom([]string{"", "2025-02-30", "昨天"}).Draw(t, "baddate")
	case "id_number":
		if good {
			return md.people[1].IDNumber
		}
		return "123"
	case "select":
		if good && len(f.Options) > 0 {
			return rapid.SampledFrom(f.Options).Draw(t, "opt").Value
		}
		return "no-such-option"
	case "number":
		if good {
			return "3"
		}
		return "三"
	}
	if good {
		return "瓆" + rapid.StringOfN(rapid.RuneFrom([]rune("甴甶瑴")), 1, 5, -1).Draw(t, "text")
	}
	return ""
}

// event draws the next event, mostly ones that make sense on the current
// screen, plus noise that may arrive anywhere (ticks, stray device results,
// back/cancel, confirmations).
func (md *model) event(t *rapid.T) Event {
	st := md.m.State()
	var opts []func() Event
	// Screen events weigh more than noise so that runs get deep into the
	// application often enough to reach Submit.
	mult := 1
	add := func(weight int, f func() Event) {
		for i := 0; i < weight*mult; i++ {
			opts = append(opts, f)
		}
	}
	add(2, func() Event {
		d := rapid.SampledFrom([]time.Duration{time.Second, time.Second, 10 * time.Second, 10 * time.Second, 46 * time.Second, 61 * time.Second, 130 * time.Second}).Draw(t, "tick")
		return md.clk.advance(d)
	})
	add(1, func() Event { return Back{} })
	add(1, func() Event { return Cancel{} })
	add(1, func() Event { return ConfirmYes{} })
	add(1, func() Event { return ConfirmNo{} })
	add(1, func() Event { return Continue{} })
	add(1, func() Event { return SetElderMode{On: rapid.Bool().Draw(t, "elder")} })
	add(1, func() Event { return CardRead{Identity: rapid.SampledFrom(md.people).Draw(t, "who")} })
	if md.echo {
		// An answer to nothing this machine asked for.
		add(1, func() Event {
			return ScanDone{MaterialID: "hukou", Seq: 1 << 40, Ref: md.ref(md.epoch), BlankScore: 0.1}
		})
	}
	// The scanner answers outstanding ScanPage effects, in order unless the
	// app echoes Seq, possibly after their session ended.
	// answerable lists the pending scans the scanner may answer now. A slow
	// scanner holds answers for ended sessions until the current session is
	// itself waiting for a scan: the moment a late page would do harm.
	var answerable []int
	scanningNow := slices.ContainsFunc(st.Materials, func(ms MaterialState) bool { return ms.Scanning })
	for i, p := range md.pending {
		if !md.echo && i > 0 {
			break
		}
		if md.slow && p.epoch != md.epoch && !scanningNow {
			continue
		}
		answerable = append(answerable, i)
	}
	weight := 3
	if scanningNow && slices.ContainsFunc(md.pending, func(p pendingScan) bool { return p.epoch != md.epoch }) {
		weight = 30 // deliver the late page now, while it could do harm
	}
	if len(answerable) > 0 {
		add(weight, func() Event {
			i := rapid.SampledFrom(answerable).Draw(t, "which")
			p := md.pending[i]
			md.pending = slices.Delete(md.pending, i, i+1)
			seq := uint64(0)
			if md.echo {
				seq = p.sp.Seq
			}
			if rapid.IntRange(0, 5).Draw(t, "fail") == 0 {
				return ScanFailed{MaterialID: p.sp.MaterialID, Seq: seq, NoPaper: rapid.Bool().Draw(t, "nopaper")}
			}
			return ScanDone{
				MaterialID: p.sp.MaterialID,
				Page:       p.sp.Page,
				Seq:        seq,
				Ref:        md.ref(p.epoch),
				BlankScore: rapid.SampledFrom([]float64{0, 0.5, 0.99}).Draw(t, "blank"),
				BlurScore:  rapid.SampledFrom([]float64{0, 0.3, 0.9}).Draw(t, "blur"),
			}
		})
	}
	add(1, func() Event { return SubmitDone{ReceiptNo: "K01-20261125-9999"} })
	add(1, func() Event { return LookupDone{Results: []LookupResult{{ReceiptNo: "X"}}} })

	mult = 10
	itemIDs := make([]string, 0, len(md.cat.Items)+1)
	for _, it := range md.cat.Items {
		itemIDs = append(itemIDs, it.ID)
	}
	itemIDs = append(itemIDs, "no-such-item")
	switch st.Step {
	case StepHome:
		add(3, func() Event { return Start{} })
		add(1, func() Event { return OpenLookup{} })
		// A card on Home opens the lookup by card.
		add(1, func() Event { return CardRead{Identity: rapid.SampledFrom(md.people).Draw(t, "who")} })
		add(3, func() Event { return SelectItem{ItemID: rapid.SampledFrom(itemIDs).Draw(t, "item")} })
		add(3, func() Event { return SelectItem{ItemID: md.favourite} })
	case StepCatalog:
		add(1, func() Event {
			return ChooseTheme{Theme: rapid.SampledFrom([]string{"", "family", "household", "nope"}).Draw(t, "theme")}
		})
		add(1, func() Event {
			return SearchCatalog{Query: rapid.SampledFrom([]string{"", "医保", "zzz"}).Draw(t, "q")}
		})
		add(4, func() Event { return SelectItem{ItemID: rapid.SampledFrom(itemIDs).Draw(t, "item")} })
		add(4, func() Event { return SelectItem{ItemID: md.favourite} })
	case StepGuide:
		add(5, func() Event { return Next{} })
	case StepThanks:
		add(3, func() Event { return CardRemoved{} })
		add(1, func() Event { return Back{} })
	case StepIdentify:
		add(4, func() Event { return CardRead{Identity: rapid.SampledFrom(md.people).Draw(t, "who")} })
		add(2, func() Event {
			return EnterIDNumber{Number: rapid.SampledFrom([]string{md.people[0].IDNumber, "12345"}).Draw(t, "typed")}
		})
		add(1, func() Event { return Next{} })
	case StepForm:
		for _, f := range st.Fields {
			w := 1
			if f.Value == "" || !f.Error.IsZero() {
				w = 4 // fields still to fill or fix come up more often
			}
			add(w, func() Event {
				v := md.fieldValue(t, f.Field)
				if v != "" {
					md.typed = append(md.typed, v)
				}
				return SetField{Name: f.Field.Name, Value: v}
			})
		}
		add(3, func() Event { return Next{} })
	case StepMaterials:
		for _, ms := range st.Materials {
			id := ms.Material.ID
			add(3, func() Event {
				return Scan{MaterialID: id, Retake: rapid.Bool().Draw(t, "retake"), Page: rapid.IntRange(0, 2).Draw(t, "page")}
			})
			add(1, func() Event { return RemovePage{MaterialID: id, Page: rapid.IntRange(-1, 2).Draw(t, "page")} })
			add(1, func() Event { return UseECert{MaterialID: id} })
			add(1, func() Event { return UsePromise{MaterialID: id} })
			add(1, func() Event { return AcceptPromise{MaterialID: id} })
			add(1, func() Event { return UseScan{MaterialID: id} })
		}
		add(4, func() Event { return Next{} })
	case StepReview:
		add(2, func() Event { return NoticeShown{} })
		add(3, func() Event { return SetConsent{Agreed: rapid.IntRange(0, 3).Draw(t, "consent") > 0} })
		add(3, func() Event { return Submit{} })
	case StepSubmitting:
		add(5, func() Event {
			md.receipts++
			return SubmitDone{ReceiptNo: fmt.Sprintf("K01-20261125-%04d", md.receipts), AcceptedAt: md.clk.t}
		})
		add(2, func() Event { return SubmitFailed{DiskFull: rapid.Bool().Draw(t, "full")} })
	case StepReceipt:
		add(3, func() Event { return PrintDone{} })
		add(2, func() Event { return PrintFailed{PaperOut: rapid.Bool().Draw(t, "paper")} })
		add(1, func() Event { return Reprint{} })
		add(3, func() Event { return Next{} })
	case StepRating:
		add(3, func() Event { return Rate{Level: rapid.IntRange(0, 6).Draw(t, "level")} })
		add(2, func() Event {
			return SetRatingReason{Reason: rapid.SampledFrom([]string{"", "rating.reason.slow"}).Draw(t, "reason")}
		})
		add(3, func() Event { return SendRating{} })
		add(1, func() Event { return SkipRating{} })
	case StepLookup:
		add(2, func() Event {
			return EnterReceiptNo{Number: rapid.SampledFrom([]string{"K01-20261125-0001", "1"}).Draw(t, "no"),
				Code: rapid.SampledFrom([]string{"7K3QD-M9XTA", ""}).Draw(t, "code")}
		})
		add(2, func() Event {
			return LookupDone{Results: []LookupResult{{ReceiptNo: "K01-20261125-0001", Status: "sent"}}}
		})
		add(1, func() Event { return LookupFailed{} })
	}
	return opts[rapid.IntRange(0, len(opts)-1).Draw(t, "event")]()
}

// step applies one event and checks every property.
func (md *model) step(t *rapid.T, ev Event) {
	switch ev.(type) {
	case SubmitDone, SubmitFailed:
		if md.m.State().Step == StepSubmitting {
			// The outbox has its own copies now (or nothing was stored).
			clear(md.submitted)
		}
	}
	if sd, ok := ev.(ScanDone); ok {
		md.live[sd.Ref] = true
		if sd.BlankScore < DefaultBlankThreshold && sd.BlurScore < DefaultBlurThreshold {
			md.good[sd.Ref] = true
		}
	}
	st, fx := md.m.Handle(ev)
	ended := false
	for _, e := range fx {
		switch e := e.(type) {
		case DiscardScans:
			for _, r := range e.Refs {
				if md.submitted[r] {
					t.Fatalf("%T: discarded %s while the outbox is still storing it", ev, r)
				}
				delete(md.live, r)
			}
		case SubmitApplication:
			md.submits++
			md.checkApplication(t, e.Application)
			for _, ms := range e.Application.Materials {
				for _, r := range ms.PageRefs {
					md.submitted[r] = true
				}
			}
		case SessionEnded:
			ended = true
			md.ends++
		case ScanPage:
			md.pending = append(md.pending, pendingScan{sp: e, epoch: md.epoch})
		}
	}
	if st.Countdown < 0 || st.Countdown > int(DefaultWarning/time.Second) {
		t.Fatalf("countdown %d outside the warning window", st.Countdown)
	}
	// Scans: nothing leaks. Every live ref is a page the state still holds.
	held := map[string]bool{}
	for _, ms := range st.Materials {
		for _, p := range ms.Pages {
			held[p.Ref] = true
			if !md.good[p.Ref] {
				t.Fatalf("%T: page %s kept although blank or blurred", ev, p.Ref)
			}
			if md.refEpoch[p.Ref] != md.epoch {
				t.Fatalf("%T: page %s of an earlier session taken into this one", ev, p.Ref)
			}
		}
	}
	for r := range md.live {
		if !held[r] {
			t.Fatalf("%T: scan %s neither kept, submitted nor discarded", ev, r)
		}
	}
	if st.Step == StepSubmitting {
		md.checkMaterialsComplete(t, st)
	}
	// Home shows nothing personal, however it was reached (also by Back
	// from a lookup that a card on Home opened).
	if st.Step == StepHome && (st.HasPersonalData || !reflect.DeepEqual(st.Lookup, LookupState{})) {
		t.Fatalf("%T: Home with personal data: %+v", ev, st.Lookup)
	}
	if ended {
		md.checkWiped(t, ev, st)
		md.epoch++
	}
}

// TestPropertyDoneMeans: no event sequence submits an application without
// every required material (in an allowed form), valid fields and consent;
// no scan leaks; and every end of a session — timeout, cancel or done —
// leaves no personal data.
func TestPropertyDoneMeans(t *testing.T) {
	var submits, ends int
	rapid.Check(t, func(rt *rapid.T) {
		md := newModel(rt, t)
		n := rapid.IntRange(1, 800).Draw(rt, "events")
		for i := 0; i < n; i++ {
			md.step(rt, md.event(rt))
		}
		submits += md.submits
		ends += md.ends
	})
	// Guard against a vacuous property: the generator must actually reach
	// Submit and end sessions (about 15 submissions per 100 runs).
	if submits == 0 || ends == 0 {
		t.Errorf("generator reached Submit %d times and ended %d sessions; the property was not exercised", submits, ends)
	}
	t.Logf("%d submissions, %d session ends checked", submits, ends)
}

// TestPropertyTimeoutAlwaysWipes: from any reachable state, enough idle
// time ends the session (except while the outbox is committing) and wipes
// it.
func TestPropertyTimeoutAlwaysWipes(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		md := newModel(rt, t)
		n := rapid.IntRange(0, 150).Draw(rt, "events")
		for i := 0; i < n; i++ {
			md.step(rt, md.event(rt))
		}
		if md.m.State().Step == StepSubmitting {
			md.step(rt, SubmitDone{ReceiptNo: "K01-20261125-0500"})
		}
		md.step(rt, md.clk.advance(DefaultElderIdleTimeout))
		st := md.m.State()
		if st.Step != StepHome || st.HasPersonalData {
			rt.Fatalf("idle timeout left step %v personal=%t", st.Step, st.HasPersonalData)
		}
		if !reflect.DeepEqual(md.m.s, session{step: StepHome, pristine: true, lastActivity: md.m.s.lastActivity}) && !md.m.s.pristine {
			rt.Fatalf("idle timeout left a session: %+v", md.m.s)
		}
	})
}
