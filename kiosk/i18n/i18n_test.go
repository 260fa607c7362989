package i18n

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// verbRE finds fmt verbs, with optional explicit argument index.
var verbRE = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z%]`)

func verbs(msg string) []string {
	v := verbRE.FindAllString(msg, -1)
	slices.Sort(v)
	return v
}

func TestEveryKeyInBothLanguages(t *testing.T) {
	cats, err := LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	zh, en := cats[ZhCN], cats[EN]
	if len(zh) < 100 {
		t.Fatalf("zh-CN has only %d keys; the embedded file was not read whole", len(zh))
	}
	for k, v := range zh {
		ev, ok := en[k]
		if !ok {
			t.Errorf("key %q is in zh-CN but not in en", k)
			continue
		}
		if !slices.Equal(verbs(v), verbs(ev)) {
			t.Errorf("key %q: zh-CN verbs %v, en verbs %v", k, verbs(v), verbs(ev))
		}
		if strings.TrimSpace(v) == "" || strings.TrimSpace(ev) == "" {
			t.Errorf("key %q has an empty message", k)
		}
	}
	for k := range en {
		if _, ok := zh[k]; !ok {
			t.Errorf("key %q is in en but not in zh-CN", k)
		}
	}
}

// keyLikeRE matches string literals that look like message keys.
var keyLikeRE = regexp.MustCompile(`^(step|err|btn|rating|status|material|lookup|receipt|review|guide|home|catalog|identify|form|materials|idle|confirm|kb|app|lang|elder|submitting)\.[a-z0-9_.]+$`)

// keysIn collects key-shaped string literals from the non-test Go files of
// a directory, leaving out the prefixes it concatenates (ending in . or _).
func keysIn(t *testing.T, dir string) []string {
	t.Helper()
	var keys []string
	for _, s := range keyLits(t, dir) {
		if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "_") {
			keys = append(keys, s)
		}
	}
	return keys
}

// keyLits collects every key-shaped string literal from the non-test Go
// files of a directory.
func keyLits(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sources found in %s: %v", dir, err)
	}
	fset := token.NewFileSet()
	var keys []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err == nil && keyLikeRE.MatchString(s) {
				keys = append(keys, s)
			}
			return true
		})
	}
	return keys
}

// TestEveryUIKeyExists checks the keys used by kiosk/ui and kiosk/app, and
// the keys those packages build from catalog enumerations, so a screen never
// shows a bracketed key.
func TestEveryUIKeyExists(t *testing.T) {
	tr := New()
	var keys []string
	for _, dir := range []string{"../ui", "../app"} {
		keys = append(keys, keysIn(t, dir)...)
	}
	for _, v := range []string{"yes", "no", "conditional", "deferrable"} {
		keys = append(keys, "guide.required_"+v)
	}
	for _, v := range []string{"original", "copy", "original_or_copy", "original_and_copy"} {
		keys = append(keys, "guide.form_"+v)
	}
	for _, v := range []string{"cancel", "discard"} {
		keys = append(keys, "confirm."+v)
	}
	for _, v := range []string{"phone", "date", "id_number", "select"} {
		keys = append(keys, "form.hint_"+v)
	}
	for _, k := range keys {
		for _, lang := range Languages() {
			if !tr.Has(lang, k) {
				t.Errorf("%q is used by the UI but missing in %s", k, lang)
			}
		}
	}
}

// TestEveryFlowKeyExists scans the source of kiosk/flow for key-shaped
// string literals, including the prefixes it concatenates (step., status.,
// material.how.), and checks each exists in both languages.
func TestEveryFlowKeyExists(t *testing.T) {
	tr := New()
	keys := keyLits(t, "../flow")
	if len(keys) < 30 {
		t.Fatalf("found only %d keys in kiosk/flow; the scan is broken", len(keys))
	}
	for _, k := range keys {
		if strings.HasSuffix(k, ".") {
			continue // a prefix, checked with its suffixes below
		}
		for _, lang := range Languages() {
			if !tr.Has(lang, k) {
				t.Errorf("kiosk/flow uses %q, missing in %s", k, lang)
			}
		}
	}
	// Keys built from a prefix and a name.
	for _, name := range []string{"home", "catalog", "guide", "identify", "form", "materials", "review", "submitting", "receipt", "rating", "lookup"} {
		for _, lang := range Languages() {
			if !tr.Has(lang, "step."+name) {
				t.Errorf("step.%s missing in %s", name, lang)
			}
		}
	}
}

func TestTranslate(t *testing.T) {
	tr := New()
	tests := []struct {
		lang, key string
		args      []any
		want      string
	}{
		{ZhCN, "btn.next", nil, "下一步"},
		{EN, "btn.next", nil, "Next"},
		{ZhCN, "err.too_many_pages", []any{3}, "这项材料最多 3 页。如需更多，请到窗口提交。"},
		{EN, "step.progress", []any{2, 7}, "Step 2 of 7"},
		{ZhCN, "rating.level.5", nil, "非常满意"},
		{EN, "no.such.key", nil, "[no.such.key]"},
	}
	for _, tc := range tests {
		t.Run(tc.lang+"/"+tc.key, func(t *testing.T) {
			if err := tr.SetLang(tc.lang); err != nil {
				t.Fatal(err)
			}
			if got := tr.T(tc.key, tc.args...); got != tc.want {
				t.Errorf("T(%q) = %q, want %q", tc.key, got, tc.want)
			}
		})
	}
}

func TestSetLangNotifiesListeners(t *testing.T) {
	tr := New()
	var got []string
	stop := tr.OnChange(func(lang string) { got = append(got, lang+":"+tr.T("btn.back")) })
	if err := tr.SetLang(EN); err != nil {
		t.Fatal(err)
	}
	if err := tr.SetLang(EN); err != nil { // no change, no call
		t.Fatal(err)
	}
	if err := tr.SetLang("fr"); !errors.Is(err, ErrUnknownLanguage) {
		t.Fatalf("SetLang(fr) = %v, want ErrUnknownLanguage", err)
	}
	if tr.Lang() != EN {
		t.Fatalf("a failed switch changed the language to %q", tr.Lang())
	}
	if err := tr.SetLang(ZhCN); err != nil {
		t.Fatal(err)
	}
	stop()
	if err := tr.SetLang(EN); err != nil {
		t.Fatal(err)
	}
	want := []string{"en:Back", "zh-CN:返回"}
	if !slices.Equal(got, want) {
		t.Fatalf("listener calls %v, want %v", got, want)
	}
}

func TestFallbackAndPick(t *testing.T) {
	tr, err := NewWith(map[string]map[string]string{
		ZhCN: {"a": "甲", "b": "乙"},
		EN:   {"a": "A"},
	}, EN)
	if err != nil {
		t.Fatal(err)
	}
	if got := tr.T("b"); got != "乙" {
		t.Errorf("missing en key should fall back to zh-CN, got %q", got)
	}
	if got := tr.Pick("社保", "Social insurance"); got != "Social insurance" {
		t.Errorf("Pick in en = %q", got)
	}
	if got := tr.Pick("社保", ""); got != "社保" {
		t.Errorf("Pick with no English = %q", got)
	}
	if _, err := NewWith(map[string]map[string]string{}, "xx"); !errors.Is(err, ErrUnknownLanguage) {
		t.Errorf("NewWith unknown = %v", err)
	}
}

func TestParseRejectsNonStrings(t *testing.T) {
	tests := []struct {
		name, src string
		ok        bool
	}{
		{"flat", `a = "x"`, true},
		{"table", "[t]\nb = \"y\"", true},
		{"number", `a = 1`, false},
		{"array", `a = ["x"]`, false},
		{"broken", `a = "x`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src))
			if (err == nil) != tc.ok {
				t.Errorf("Parse(%q) err = %v, want ok=%t", tc.src, err, tc.ok)
			}
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	tr := New()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 200; i++ {
			_ = tr.T("btn.next")
		}
	}()
	for i := 0; i < 200; i++ {
		lang := ZhCN
		if i%2 == 0 {
			lang = EN
		}
		if err := tr.SetLang(lang); err != nil {
			t.Fatal(err)
		}
	}
	<-done
}
