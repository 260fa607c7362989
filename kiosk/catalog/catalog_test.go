package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode"

	"onedoor/assets"
)

func mustSample(t testing.TB) *Catalog {
	t.Helper()
	c, err := Parse(assets.SampleCatalog)
	if err != nil {
		t.Fatalf("embedded sample catalog: %v", err)
	}
	return c
}

func TestSampleCatalogValid(t *testing.T) {
	c := mustSample(t)
	if !c.Sample || !strings.Contains(c.Notice, "SAMPLE") {
		t.Error("the sample catalog must be marked as sample data")
	}
	if len(c.Items) < 12 {
		t.Errorf("%d items, want at least 12", len(c.Items))
	}
	used := map[string]bool{}
	for _, it := range c.Items {
		for _, th := range it.Themes {
			used[th] = true
		}
	}
	if len(used) < 5 {
		t.Errorf("items use %d themes, want at least 5", len(used))
	}
	apply := 0
	for _, it := range c.Items {
		if it.Kiosk.Mode == "full_apply" {
			apply++
		}
	}
	if apply < 2 {
		t.Errorf("only %d items can be applied for at the kiosk", apply)
	}
	if len(c.Popular()) == 0 {
		t.Error("no popular items for the Home shortcuts")
	}
}

// Keys every item and material must spell out, from the domain notes §2.3.
// Checked on the raw JSON so that a field left out (zero value after
// decoding) is caught too.
var (
	itemKeys = []string{"id", "name", "codes", "type", "version", "status", "agency", "level", "power_source",
		"audience", "themes", "legal_basis", "accept_conditions", "process", "time_limit", "case_kind", "fees",
		"visits_required", "handle_forms", "places", "consult", "complaint", "cross_scope", "kiosk", "results",
		"materials", "faq", "updated_at", "form"}
	codeKeys     = []string{"catalog", "task", "handle_item", "local_task"}
	agencyKeys   = []string{"name", "uscc", "nature", "entrusted_by"}
	materialKeys = []string{"id", "name", "required", "condition", "form", "medium", "copies", "paper_spec",
		"source", "source_note", "e_licence", "promise_allowed", "shared_verification", "blank_form", "example",
		"fill_notes", "acceptance_standard", "basis"}
	resultKeys = []string{"name", "type", "delivery", "validity", "sample_file"}
)

func missingKeys(obj map[string]json.RawMessage, keys []string) []string {
	var out []string
	for _, k := range keys {
		if _, ok := obj[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}

func TestSampleCatalogHasEverySchemaField(t *testing.T) {
	var raw struct {
		Items []map[string]json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(assets.SampleCatalog, &raw); err != nil {
		t.Fatal(err)
	}
	sub := func(t *testing.T, it map[string]json.RawMessage, key string) map[string]json.RawMessage {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(it[key], &m); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		return m
	}
	for i, it := range raw.Items {
		var id string
		_ = json.Unmarshal(it["id"], &id)
		t.Run(id, func(t *testing.T) {
			if m := missingKeys(it, itemKeys); len(m) > 0 {
				t.Errorf("item %d lacks %v", i, m)
			}
			if m := missingKeys(sub(t, it, "codes"), codeKeys); len(m) > 0 {
				t.Errorf("codes lack %v", m)
			}
			if m := missingKeys(sub(t, it, "agency"), agencyKeys); len(m) > 0 {
				t.Errorf("agency lacks %v", m)
			}
			tl := sub(t, it, "time_limit")
			if m := missingKeys(tl, []string{"legal", "promised"}); len(m) > 0 {
				t.Errorf("time_limit lacks %v", m)
			}
			var mats, results []map[string]json.RawMessage
			if err := json.Unmarshal(it["materials"], &mats); err != nil {
				t.Fatal(err)
			}
			if len(mats) == 0 {
				t.Error("no materials")
			}
			for _, m := range mats {
				if miss := missingKeys(m, materialKeys); len(miss) > 0 {
					t.Errorf("material %s lacks %v", m["id"], miss)
				}
			}
			if err := json.Unmarshal(it["results"], &results); err != nil {
				t.Fatal(err)
			}
			for _, r := range results {
				if miss := missingKeys(r, resultKeys); len(miss) > 0 {
					t.Errorf("result lacks %v", miss)
				}
			}
		})
	}
}

// TestSampleCatalogHasEnglish: in English mode the kiosk shows the English
// version of whatever a resident reads about an item and falls back to the
// Chinese only where it is missing, so the sample catalog (the demo's, and
// the screenshots') must leave nothing missing.
func TestSampleCatalogHasEnglish(t *testing.T) {
	c := mustSample(t)
	for _, th := range c.Themes {
		if th.NameEN == "" {
			t.Errorf("theme %s has no name_en", th.ID)
		}
	}
	for _, it := range c.Items {
		if it.Status != "active" {
			continue
		}
		t.Run(it.ID, func(t *testing.T) {
			var missing []string
			need := func(path, zh, en string) {
				if strings.TrimSpace(zh) != "" && strings.TrimSpace(en) == "" {
					missing = append(missing, path)
				}
				// English mode shows en alone: Chinese in it would be
				// the untranslated text the resident cannot read.
				if strings.ContainsFunc(en, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
					missing = append(missing, path+" (has Chinese)")
				}
			}
			need("name_en", it.Name, it.NameEN)
			need("agency.name_en", it.Agency.Name, it.Agency.NameEN)
			if len(it.AcceptConditionsEN) != len(it.AcceptConditions) {
				missing = append(missing, "accept_conditions_en")
			} else {
				for i := range it.AcceptConditions {
					need(fmt.Sprintf("accept_conditions_en[%d]", i), it.AcceptConditions[i], it.AcceptConditionsEN[i])
				}
			}
			for i, f := range it.Fees {
				need(fmt.Sprintf("fees[%d].name_en", i), f.Name, f.NameEN)
				need(fmt.Sprintf("fees[%d].standard_en", i), f.Standard, f.StandardEN)
			}
			for i, p := range it.Places {
				need(fmt.Sprintf("places[%d].address_en", i), p.Address, p.AddressEN)
				need(fmt.Sprintf("places[%d].window_en", i), p.Window, p.WindowEN)
				need(fmt.Sprintf("places[%d].hours_en", i), p.Hours, p.HoursEN)
			}
			for _, m := range it.Materials {
				need("materials."+m.ID+".name_en", m.Name, m.NameEN)
				need("materials."+m.ID+".condition_en", m.Condition, m.ConditionEN)
			}
			for _, f := range it.Form {
				need("form."+f.Name+".label_en", f.Label, f.LabelEN)
				need("form."+f.Name+".hint_en", f.Hint, f.HintEN)
				for _, o := range f.Options {
					need("form."+f.Name+".options."+o.Value+".label_en", o.Label, o.LabelEN)
				}
			}
			if len(missing) > 0 {
				t.Errorf("no English for %s", strings.Join(missing, ", "))
			}
		})
	}
}

func TestSampleCatalogExercisesEveryMaterialKind(t *testing.T) {
	c := mustSample(t)
	var ecert, promise, shared, optional bool
	for _, it := range c.Items {
		for _, m := range it.Materials {
			ecert = ecert || m.ECertAllowed()
			promise = promise || m.PromiseAllowed
			shared = shared || m.SharedVerification
			optional = optional || !m.IsRequired()
		}
	}
	if !ecert || !promise || !shared || !optional {
		t.Errorf("sample lacks a material kind: ecert=%t promise=%t shared=%t optional=%t", ecert, promise, shared, optional)
	}
}

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Catalog)
		want   string
	}{
		{"schema version", func(c *Catalog) { c.SchemaVersion = "2" }, "schema_version"},
		{"region code", func(c *Catalog) { c.Region.Code = "44" }, "region.code"},
		{"duplicate item", func(c *Catalog) { c.Items[1].ID = c.Items[0].ID }, "duplicate item id"},
		{"catalog code length", func(c *Catalog) { c.Items[0].Codes.Catalog = "123" }, "codes.catalog"},
		{"task code too long", func(c *Catalog) { c.Items[0].Codes.Task = strings.Repeat("1", 37) }, "codes.task"},
		{"item type", func(c *Catalog) { c.Items[0].Type = "ZZ" }, ".type"},
		{"uscc", func(c *Catalog) { c.Items[0].Agency.USCC = "11441900000000101I" }, "agency.uscc"},
		{"entrusted without entruster", func(c *Catalog) { c.Items[0].Agency.Nature = "entrusted" }, "entrusted_by"},
		{"unknown theme", func(c *Catalog) { c.Items[0].Themes = []string{"nope"} }, "unknown theme"},
		{"promised longer than legal", func(c *Catalog) { c.Items[0].TimeLimit.Promised.Value = 99 }, "longer than the legal"},
		{"instant with days", func(c *Catalog) {
			c.Items[0].CaseKind = "instant"
			c.Items[0].TimeLimit.Promised.Value = 2
		}, "instant item"},
		{"limit unit", func(c *Catalog) { c.Items[0].TimeLimit.Legal.Unit = "week" }, "time_limit.legal.unit"},
		{"material required", func(c *Catalog) { c.Items[0].Materials[0].Required = "maybe" }, "materials[0].required"},
		{"duplicate material", func(c *Catalog) {
			c.Items[0].Materials = append(c.Items[0].Materials, c.Items[0].Materials[0])
		}, "duplicate material"},
		{"e-licence without code", func(c *Catalog) {
			c.Items[0].Materials[0].ELicence = &ELicence{ReplacesSubmission: true}
		}, "e_licence.type_code"},
		{"select without options", func(c *Catalog) {
			c.Items[0].Form = append(c.Items[0].Form, Field{Name: "x", Label: "x", Kind: "select"})
		}, "needs options"},
		{"field kind", func(c *Catalog) { c.Items[0].Form[0].Kind = "colour" }, "form[0].kind"},
		{"apply without form", func(c *Catalog) { c.Items[0].Form = nil }, "needs form fields"},
		{"no places", func(c *Catalog) { c.Items[0].Places = nil }, "places"},
		{"no items", func(c *Catalog) { c.Items = nil }, "no items"},
		{"english conditions not line for line", func(c *Catalog) {
			c.Items[0].AcceptConditionsEN = append(slices.Clone(c.Items[0].AcceptConditionsEN), "one line too many")
		}, "accept_conditions_en"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustSample(t)
			tc.mutate(c)
			err := c.Validate()
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate() = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestParseRejectsBadJSON(t *testing.T) {
	tests := []struct{ name, src string }{
		{"empty", ""},
		{"not json", "hello"},
		{"unknown field", `{"schema_version":"1","colour":"red"}`},
		{"trailing", string(assets.SampleCatalog) + "{}"},
		{"wrong type", `{"schema_version":1}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse([]byte(tc.src)); !errors.Is(err, ErrInvalid) {
				t.Errorf("Parse = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestSearchAndThemes(t *testing.T) {
	c := mustSample(t)
	ids := func(items []*Item) []string {
		var out []string
		for _, it := range items {
			out = append(out, it.ID)
		}
		return out
	}
	tests := []struct {
		query   string
		want    []string // must be included
		notWant []string
	}{
		{"养老", []string{"ss-pension-enrol"}, []string{"fm-birth-reg"}},
		{"医保 参保", []string{"mi-resident-enrol"}, []string{"ss-pension-enrol"}},
		{"BIRTH", []string{"fm-birth-reg"}, nil},
		{"社会保险", []string{"ss-pension-enrol", "ss-card-replace"}, nil}, // theme name
		{"没有这种事项", nil, []string{"ss-pension-enrol"}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			checkSearch(t, c, tc.query, tc.want, tc.notWant)
		})
	}
	if n := len(c.Search("")); n != len(c.Items) {
		t.Errorf("empty search lists %d of %d items", n, len(c.Items))
	}
	c.Items[0].Status = "suspended"
	if slices.Contains(ids(c.Search("")), c.Items[0].ID) || slices.Contains(ids(c.ByTheme(c.Items[0].Themes[0])), c.Items[0].ID) {
		t.Error("a suspended item is still listed")
	}
	for _, th := range c.Themes {
		if len(c.ByTheme(th.ID)) == 0 {
			t.Errorf("theme %s has no items", th.ID)
		}
	}
}

// checkSearch checks that Search(query) finds every item of want and none
// of notWant (by id).
func checkSearch(t *testing.T, c *Catalog, query string, want, notWant []string) {
	t.Helper()
	var got []string
	for _, it := range c.Search(query) {
		got = append(got, it.ID)
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("Search(%q) = %v, lacks %s", query, got, w)
		}
	}
	for _, w := range notWant {
		if slices.Contains(got, w) {
			t.Errorf("Search(%q) = %v, should not have %s", query, got, w)
		}
	}
}
