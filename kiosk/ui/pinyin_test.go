package ui

import (
	"slices"
	"testing"
)

func TestPinyinDict(t *testing.T) {
	d := NewPinyinDict()
	if d.Len() < 380 {
		t.Fatalf("only %d syllables; GB2312 has about 400", d.Len())
	}
	tests := []struct {
		input   string
		want    rune // must be among the candidates
		within  int  // at most this position
		wantNil bool
	}{
		{input: "zhong", want: '中', within: 8},
		{input: "ZHONG", want: '中', within: 8},
		{input: "guo", want: '国', within: 12},
		{input: "dong", want: '东', within: 8},
		{input: "guan", want: '莞', within: 40},
		{input: "lv", want: '绿', within: 20},
		{input: "zhan", want: '张', within: -1}, // zhang is only a prefix match of zhan
		{input: "zhang", want: '张', within: 10},
		{input: "zh", want: '中', within: -1},
		{input: "", wantNil: true},
		{input: "qqq", wantNil: true},
	}
	for _, tc := range tests {
		got := d.Candidates(tc.input)
		if tc.wantNil {
			if len(got) != 0 {
				t.Errorf("Candidates(%q) = %d runes, want none", tc.input, len(got))
			}
			continue
		}
		i := slices.Index(got, tc.want)
		if i < 0 {
			t.Errorf("Candidates(%q) lacks %c", tc.input, tc.want)
			continue
		}
		if tc.within >= 0 && i >= tc.within {
			t.Errorf("Candidates(%q): %c at position %d, want before %d", tc.input, tc.want, i, tc.within)
		}
	}
}

func TestPinyinExactBeforePrefix(t *testing.T) {
	d := NewPinyinDict()
	got := d.Candidates("xian")
	exact := d.Candidates("xian")[:len(d.bySyllable["xian"])]
	for _, r := range exact {
		if !slices.Contains(d.Readings(r), "xian") {
			t.Fatalf("%c listed first for xian but reads %v", r, d.Readings(r))
		}
	}
	if len(got) <= len(exact) {
		t.Fatalf("no prefix matches (xiang, xianh…) after the exact ones")
	}
	// Level-1 characters come before level-2 ones among the exact matches.
	d.Build()
	if d.rank['先'] > d.rank['冼'] {
		t.Errorf("level-1 先 ranked after level-2 冼")
	}
	if i, j := slices.Index(got, '先'), slices.Index(got, '冼'); i > j {
		t.Errorf("先 at %d after 冼 at %d", i, j)
	}
}

// TestPinyinTableCoversGB2312 checks the generated table as read back: all
// 6,763 GB2312 characters ranked, each syllable's characters in rank order
// (most common first) and nearly every character reachable by some reading;
// the characters every form needs come first for their syllable.
func TestPinyinTableCoversGB2312(t *testing.T) {
	d := NewPinyinDict()
	d.Build()
	if len(d.rank) != 6763 {
		t.Fatalf("%d characters ranked, want GB2312's 6763", len(d.rank))
	}
	reachable := map[rune]bool{}
	for _, s := range d.syllables {
		rs := d.bySyllable[s]
		if len(rs) == 0 {
			t.Errorf("syllable %q has no characters", s)
		}
		for i, r := range rs {
			reachable[r] = true
			if _, ok := d.rank[r]; !ok {
				t.Errorf("%c under %q is not in GB2312", r, s)
			}
			if i > 0 && d.rank[rs[i-1]] >= d.rank[r] {
				t.Errorf("%q: %c before %c breaks the frequency order", s, rs[i-1], r)
			}
		}
	}
	if len(reachable) < 6700 {
		t.Errorf("only %d of 6763 characters have a reading", len(reachable))
	}
	// In GB2312 code order 是 came after 狮, 施, 湿 and some thirty more
	// (a page-turn or five on the candidate bar); most common first it is
	// the first candidate, as are these.
	for typed, want := range map[string]rune{"shi": '是', "zhong": '中', "wo": '我', "ren": '人', "sheng": '生'} {
		if c := d.Candidates(typed); len(c) == 0 || c[0] != want {
			t.Errorf("%q: first candidate %q, want %c", typed, string(c[:min(len(c), 6)]), want)
		}
	}
}

func BenchmarkPinyinBuild(b *testing.B) {
	for b.Loop() {
		NewPinyinDict().Build()
	}
}
