package ui

import (
	"sort"
	"strings"
	"sync"
)

//go:generate go run ../internal/pinyingen -table ui -o pinyin_table.go

// PinyinDict maps toneless pinyin syllables to Han characters for the pinyin
// keypad. It covers the 6,763 characters of GB2312 and lists the most
// common characters first: by the Unicode Han Database's frequency and
// school-grade fields, then level-1 (常用) before level-2 (the table is made
// at development time; see kiosk/internal/pinyingen).
// It is built once by kiosk/app and shared read-only by every keypad.
type PinyinDict struct {
	once       sync.Once
	bySyllable map[string][]rune
	syllables  []string     // sorted, for prefix search
	rank       map[rune]int // how common: 0 is the most common character
}

// NewPinyinDict returns the dictionary; it is built on first use, or ahead
// of it by Build, so that start-up need not wait for it.
func NewPinyinDict() *PinyinDict { return &PinyinDict{} }

// Build builds the dictionary now if it is not built yet. It is safe to
// call from any goroutine, e.g. in the background after start-up.
func (d *PinyinDict) Build() { d.once.Do(d.build) }

// build reads the generated table (pinyin_table.go, made from go-pinyin at
// development time; see kiosk/internal/pinyingen): the characters of each
// syllable are already most common first, heteronyms under each of their
// readings, ü typed as v as on every Chinese keyboard.
func (d *PinyinDict) build() {
	d.rank = make(map[rune]int, 6800)
	for _, r := range gb2312Han {
		d.rank[r] = len(d.rank)
	}
	lines := strings.Split(strings.TrimSuffix(pinyinReadings, "\n"), "\n")
	d.bySyllable = make(map[string][]rune, len(lines))
	d.syllables = make([]string, 0, len(lines))
	for _, l := range lines {
		s, chars, _ := strings.Cut(l, " ")
		d.bySyllable[s] = []rune(chars)
		d.syllables = append(d.syllables, s)
	}
	// The generator sorts them; sorting again keeps prefix search right
	// even if the table is ever edited by hand.
	sort.Strings(d.syllables)
}

// Len is the number of distinct syllables.
func (d *PinyinDict) Len() int {
	d.Build()
	return len(d.syllables)
}

// Candidates returns the characters for typed letters: those whose reading
// is exactly the input first, then those whose reading starts with it, so an
// unfinished syllable already offers characters. Input is lower-cased; an
// empty or unknown input has no candidates.
func (d *PinyinDict) Candidates(input string) []rune {
	d.Build()
	input = strings.ToLower(strings.TrimSpace(input))
	if input == "" {
		return nil
	}
	out := append([]rune(nil), d.bySyllable[input]...)
	seen := make(map[rune]bool, len(out))
	for _, r := range out {
		seen[r] = true
	}
	exact := len(out)
	i := sort.SearchStrings(d.syllables, input)
	for ; i < len(d.syllables) && strings.HasPrefix(d.syllables[i], input); i++ {
		s := d.syllables[i]
		if s == input {
			continue
		}
		for _, r := range d.bySyllable[s] {
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	more := out[exact:]
	sort.SliceStable(more, func(a, b int) bool { return d.rank[more[a]] < d.rank[more[b]] })
	return out
}

// Readings returns the readings of r in the dictionary, for tests and for
// showing a hint under a candidate.
func (d *PinyinDict) Readings(r rune) []string {
	d.Build()
	var out []string
	for _, s := range d.syllables {
		for _, c := range d.bySyllable[s] {
			if c == r {
				out = append(out, s)
				break
			}
		}
	}
	return out
}
