package techui_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"onedoor/kiosk/devices"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/techui"
)

var verbRE = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z]`)

// TestMessages: every technician key exists in both languages with the
// same format verbs, and every "tech.…" key the code names exists.
func TestMessages(t *testing.T) {
	cats, err := techui.Catalogs()
	if err != nil {
		t.Fatal(err)
	}
	zh, en := cats[i18n.ZhCN], cats[i18n.EN]
	n := 0
	for k, v := range zh {
		if len(k) < 5 || k[:5] != "tech." {
			continue
		}
		n++
		w, ok := en[k]
		if !ok {
			t.Errorf("%s: missing in en", k)
			continue
		}
		if a, b := verbRE.FindAllString(v, -1), verbRE.FindAllString(w, -1); !slices.Equal(a, b) {
			t.Errorf("%s: verbs %v in zh-CN, %v in en", k, a, b)
		}
	}
	for k := range en {
		if _, ok := zh[k]; !ok {
			t.Errorf("%s: missing in zh-CN", k)
		}
	}
	if n < 100 {
		t.Errorf("only %d technician keys; the catalog did not load", n)
	}

	// Keys named in the code, whole or as a prefix completed at run time
	// ("tech.tab."+page).
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	keyRE := regexp.MustCompile(`"(tech\.[a-z0-9_.]+)"`)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyRE.FindAllStringSubmatch(string(src), -1) {
			key := m[1]
			if last := key[len(key)-1]; last == '.' || last == '_' {
				found := false
				for k := range zh {
					if len(k) > len(key) && k[:len(key)] == key {
						found = true
						break
					}
				}
				if !found {
					t.Errorf("%s: no key starts with %q", f, key)
				}
				continue
			}
			if _, ok := zh[key]; !ok {
				t.Errorf("%s: key %q not in the catalog", f, key)
			}
		}
	}
	// Keys built at run time from values.
	for _, p := range techui.Pages() {
		if _, ok := zh["tech.tab."+p]; !ok {
			t.Errorf("tab %s has no label", p)
		}
	}
	for _, k := range devices.Kinds() {
		if _, ok := zh["tech.dev."+k]; !ok {
			t.Errorf("device %s has no name", k)
		}
	}
	for _, st := range []string{"pending", "sending", "rejected"} {
		if _, ok := zh["tech.queue.state_"+st]; !ok {
			t.Errorf("queue state %s has no label", st)
		}
	}
	for _, s := range []string{"dns", "tcp", "tls", "http"} {
		if _, ok := zh["tech.net.step_"+s]; !ok {
			t.Errorf("step %s has no label", s)
		}
	}
}
