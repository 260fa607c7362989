package catalog

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestPinyinOf(t *testing.T) {
	tests := []struct {
		r    rune
		want []string // readings that must be listed
	}{
		{'居', []string{"ju"}},
		{'住', []string{"zhu"}},
		{'证', []string{"zheng"}},
		{'参', []string{"can", "shen"}}, // polyphonic: every reading
		{'行', []string{"xing", "hang"}},
		{'绿', []string{"lv"}},  // ü is typed v
		{'一', []string{"yi"}},  // first record
		{'齄', []string{"zha"}}, // last record
		{'a', nil},
		{'，', nil},
		{'𠀀', nil}, // Han, but not in GB2312
	}
	for _, tc := range tests {
		t.Run(string(tc.r), func(t *testing.T) {
			got := strings.Fields(pinyinOf(tc.r))
			if tc.want == nil && len(got) != 0 {
				t.Errorf("pinyinOf(%q) = %v, want none", tc.r, got)
			}
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("pinyinOf(%q) = %v, lacks %s", tc.r, got, w)
				}
			}
		})
	}
}

// TestPinyinOfEveryRecord looks every character of the table up, which
// exercises the binary search at every position, and checks the order it
// relies on.
func TestPinyinOfEveryRecord(t *testing.T) {
	prev := rune(0)
	n := 0
	for line := range strings.Lines(hanReadings) {
		c, size := utf8.DecodeRuneInString(line)
		if c <= prev {
			t.Fatalf("record %q is out of order after %q", c, prev)
		}
		prev = c
		want := strings.TrimSuffix(line[size:], "\n")
		if got := pinyinOf(c); got != want {
			t.Fatalf("pinyinOf(%q) = %q, want %q", c, got, want)
		}
		n++
	}
	if n != 6763 {
		t.Errorf("%d records, want the 6763 Han characters of GB2312", n)
	}
}

func TestMatchPinyin(t *testing.T) {
	tests := []struct {
		text, word string
		want       bool
	}{
		{"居住证申领", "jzz", true},   // initials
		{"居住证申领", "juzhu", true}, // full pinyin, prefix of the name
		{"居住证申领", "juzhuzhengshenling", true},
		{"居住证申领", "juzhuzh", true},       // unfinished last syllable
		{"居住证申领", "jzzh", true},          // zh as an initial
		{"居住证申领", "juzz", true},          // mixed
		{"居住证申领", "zzsl", true},          // not at the start
		{"居住证申领", "shenling", true},      // not at the start
		{"居住证申领", "jzs", false},          // 住 is not s
		{"居住证申领", "jzzslx", false},       // longer than the name
		{"居住证申领", "jz z", false},         // not a pinyin word
		{"参保登记", "canbao", true},         // 参 can
		{"参保登记", "shenbao", true},        // 参 shen: any reading
		{"居民户口簿（户主页及本人页）", "hzy", true},  // inside brackets
		{"居民户口簿（户主页及本人页）", "bhz", false}, // a run does not cross punctuation
		{"", "a", false},
		{"社保", "shebaoka", false},
	}
	for _, tc := range tests {
		t.Run(tc.text+"/"+tc.word, func(t *testing.T) {
			if got := isPinyinQuery(tc.word) && matchPinyin(tc.text, tc.word); got != tc.want {
				t.Errorf("match(%q, %q) = %t, want %t", tc.text, tc.word, got, tc.want)
			}
		})
	}
}

func TestSearchPinyin(t *testing.T) {
	c := mustSample(t)
	tests := []struct {
		query   string
		want    []string // must be included
		notWant []string
	}{
		{"jzz", []string{"hh-residence-permit"}, []string{"ss-pension-enrol", "fm-birth-reg"}},
		{"juzhu", []string{"hh-residence-permit"}, []string{"ss-pension-enrol"}},
		{"JZZ", []string{"hh-residence-permit"}, nil}, // keypad capitals
		{"juzhuzheng", []string{"hh-residence-permit"}, nil},
		{"shebaoka", []string{"ss-card-replace"}, []string{"ss-pension-enrol"}}, // keyword 社保卡
		{"sbk", []string{"ss-card-replace"}, []string{"mi-resident-enrol"}},
		{"yl cb", []string{"ss-pension-enrol"}, []string{"ss-card-replace"}},              // two words, keywords 养老 参保
		{"yiliao", []string{"mi-resident-enrol", "mi-chronic"}, []string{"fm-birth-reg"}}, // theme 医疗保障
		{"gaoling", []string{"ed-senior-allowance"}, []string{"ss-pension-enrol"}},
		{"residence", []string{"hh-residence-permit"}, nil}, // English still matches
		{"jzzq", nil, []string{"hh-residence-permit"}},
		{"jz2", nil, []string{"hh-residence-permit"}}, // a digit: not pinyin
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			checkSearch(t, c, tc.query, tc.want, tc.notWant)
		})
	}
}

// TestSampleCatalogHasPinyin: every Han character a resident could search
// for by pinyin in the sample catalog is in the table.
func TestSampleCatalogHasPinyin(t *testing.T) {
	c := mustSample(t)
	texts := []string{}
	for _, th := range c.Themes {
		texts = append(texts, th.Name)
	}
	for _, it := range c.Items {
		texts = append(texts, it.Name)
		texts = append(texts, it.Keywords...)
	}
	for _, s := range texts {
		for _, r := range s {
			if unicode.Is(unicode.Han, r) && pinyinOf(r) == "" {
				t.Errorf("%q in %q has no pinyin", r, s)
			}
		}
	}
}
