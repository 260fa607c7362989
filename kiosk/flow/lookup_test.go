package flow

import "testing"

// TestLookupResultsNamedInEnglish: lookup results carry the item's English
// name from the catalog, found by ID or by the Chinese name, so English
// mode does not show the item in Chinese.
func TestLookupResultsNamedInEnglish(t *testing.T) {
	tests := []struct {
		name           string
		in             LookupResult
		wantZH, wantEN string
	}{
		{"by id", LookupResult{ItemID: "hh-residence-permit"}, "居住证申领", "Apply for a residence permit"},
		{"by chinese name", LookupResult{ItemName: "居住证申领"}, "居住证申领", "Apply for a residence permit"},
		{"id wins", LookupResult{ItemID: "fm-birth-reg", ItemName: "生育登记（旧名）"}, "生育登记（旧名）", "Register a birth plan"},
		{"unknown item", LookupResult{ItemID: "gone", ItemName: "已撤销的事项"}, "已撤销的事项", ""},
		{"english given", LookupResult{ItemName: "居住证申领", ItemNameEN: "Residence permit"}, "居住证申领", "Residence permit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := newTestMachine(t)
			r := tc.in
			r.ReceiptNo, r.Status = "K01-20261120-0003", "approved"
			st, _ := run(m, OpenLookup{}, EnterReceiptNo{Number: r.ReceiptNo, Code: "7K3QD-M9XTA"}, LookupDone{Results: []LookupResult{r}})
			if len(st.Lookup.Results) != 1 {
				t.Fatalf("results %+v", st.Lookup.Results)
			}
			got := st.Lookup.Results[0]
			if got.ItemName != tc.wantZH || got.ItemNameEN != tc.wantEN {
				t.Errorf("names %q / %q, want %q / %q", got.ItemName, got.ItemNameEN, tc.wantZH, tc.wantEN)
			}
		})
	}
}
