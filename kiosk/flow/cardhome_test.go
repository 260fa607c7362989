package flow

import (
	"testing"
	"time"

	"onedoor/pii"
)

// TestCardOnHome: a card placed while Home is shown opens the progress
// lookup by that card, as choosing 办件查询 and placing it would; a card
// that cannot be used says why on the lookup screen; and leaving the lookup
// leaves nothing personal behind.
func TestCardOnHome(t *testing.T) {
	results := []LookupResult{{ReceiptNo: "K01-20261120-0003", ItemID: "fm-birth-reg", Status: "approved"}}
	tests := []struct {
		name      string
		id        Identity
		wantErr   string
		wantQuery bool
	}{
		{"valid card", card(), "", true},
		{"unreadable card", Identity{}, "err.card_unreadable", false},
		{"not a resident ID", Identity{Name: "x", IDNumber: "123"}, "err.card_not_supported", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := newTestMachine(t)
			st, fx := run(m, Touch{}, CardRead{Identity: tc.id})
			if st.Step != StepLookup || st.Error.Key != tc.wantErr {
				t.Fatalf("step %v error %q, want lookup with %q", st.Step, st.Error.Key, tc.wantErr)
			}
			q, asked := findEffect[LookupProgress](fx)
			if asked != tc.wantQuery {
				t.Fatalf("lookup effect %v, want %v", asked, tc.wantQuery)
			}
			if !asked {
				return
			}
			if q.IDNumber != tc.id.IDNumber || q.ReceiptNo != "" {
				t.Errorf("lookup %+v, want by ID number", q)
			}
			if !st.Lookup.Pending || !st.Busy || st.Lookup.MaskedID != pii.MaskID(tc.id.IDNumber) {
				t.Errorf("lookup state %+v busy %t", st.Lookup, st.Busy)
			}
			st, _ = m.Handle(LookupDone{Results: results, Seq: q.Seq})
			if !st.Lookup.Done || len(st.Lookup.Results) != 1 {
				t.Fatalf("results not shown: %+v", st.Lookup)
			}
			st, _ = m.Handle(Back{})
			if st.Step != StepHome || st.HasPersonalData || st.Lookup.MaskedID != "" || len(st.Lookup.Results) != 0 {
				t.Errorf("back Home kept the lookup: step %v %+v", st.Step, st.Lookup)
			}
		})
	}
}

// TestCardOnHomeTimesOut: a lookup opened by a card on Home, then left
// alone, ends like any session and is wiped.
func TestCardOnHomeTimesOut(t *testing.T) {
	m, clk := newTestMachine(t)
	st, fx := run(m, CardRead{Identity: card()})
	q, _ := findEffect[LookupProgress](fx)
	st, _ = run(m, LookupDone{Results: []LookupResult{{ReceiptNo: "K01-20261120-0003"}}, Seq: q.Seq}, clk.advance(DefaultIdleTimeout+time.Second))
	if st.Step != StepHome || st.HasPersonalData || st.Lookup.MaskedID != "" {
		t.Errorf("after the idle timeout: step %v %+v", st.Step, st.Lookup)
	}
}

// TestCardOnHomeKeepsOtherScreensIgnoring: only Home gains the card; the
// catalog still ignores it (the resident is choosing an item).
func TestCardOnHomeKeepsOtherScreensIgnoring(t *testing.T) {
	m, _ := newTestMachine(t)
	st, fx := run(m, Start{}, CardRead{Identity: card()})
	if st.Step != StepCatalog || len(fx) != 0 || st.HasPersonalData {
		t.Errorf("card on the catalog: step %v effects %v", st.Step, fx)
	}
}
