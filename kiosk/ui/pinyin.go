package ui

import (
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/mozillazg/go-pinyin"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// PinyinDict maps toneless pinyin syllables to Han characters for the pinyin
// keypad. It covers the 6,763 characters of GB2312 and lists the 3,755
// level-1 (常用) characters before the level-2 ones, which is the cheapest
// "common characters first" order available without a frequency table.
// It is built once by kiosk/app and shared read-only by every keypad.
type PinyinDict struct {
	once       sync.Once
	bySyllable map[string][]rune
	syllables  []string     // sorted, for prefix search
	rank       map[rune]int // position in GB2312: level 1 before level 2
}

// NewPinyinDict returns the dictionary; it is built on first use, or ahead
// of it by Build (about 50 ms), so that start-up need not wait for it.
func NewPinyinDict() *PinyinDict { return &PinyinDict{} }

// Build builds the dictionary now if it is not built yet. It is safe to
// call from any goroutine, e.g. in the background after start-up.
func (d *PinyinDict) Build() { d.once.Do(d.build) }

// build walks GB2312 in code order (level 1 rows 0xB0–0xD7 come first) and
// inverts go-pinyin's hanzi→pinyin table. Heteronyms are listed under each
// of their readings. ü is typed as v, as on every Chinese keyboard.
func (d *PinyinDict) build() {
	d.bySyllable, d.rank = make(map[string][]rune, 420), make(map[rune]int, 6800)
	dec := simplifiedchinese.GBK.NewDecoder()
	args := pinyin.NewArgs()
	args.Heteronym = true
	args.Style = pinyin.Normal
	for hi := 0xB0; hi <= 0xF7; hi++ {
		for lo := 0xA1; lo <= 0xFE; lo++ {
			b, err := dec.Bytes([]byte{byte(hi), byte(lo)})
			if err != nil {
				continue
			}
			rs := []rune(string(b))
			if len(rs) != 1 || !unicode.Is(unicode.Han, rs[0]) {
				continue
			}
			d.rank[rs[0]] = len(d.rank)
			seen := map[string]bool{}
			for _, py := range pinyin.SinglePinyin(rs[0], args) {
				py = strings.ReplaceAll(py, "ü", "v")
				if py == "" || seen[py] {
					continue
				}
				seen[py] = true
				d.bySyllable[py] = append(d.bySyllable[py], rs[0])
			}
		}
	}
	for s := range d.bySyllable {
		d.syllables = append(d.syllables, s)
	}
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
