package main

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	_ "embed"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// frequencyData is the extract of the Unicode Han Database (Unihan) that
// orders the pinyin keypad's candidates: for each GB2312 character that has
// them, its kFrequency (1 most frequent to 5) and kGradeLevel (the primary
// school grade in which it is taught, 1 to 6). It is made at development
// time from Debian's unicode-data package (`go run ./kiosk/internal/pinyingen
// -unihan /usr/share/unicode`) and committed, so generating the tables needs
// no package. Unihan is under the Unicode licence (see the file's header),
// which allows this use alongside Apache-2.0.
//
//go:embed frequency.txt
var frequencyData string

// rank is how common a character is: lower sorts first.
type rank struct{ freq, grade int }

// ranks parses frequencyData.
func ranks() (map[rune]rank, error) {
	out := map[rune]rank{}
	sc := bufio.NewScanner(strings.NewReader(frequencyData))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("frequency.txt: bad line %q", line)
		}
		rs := []rune(f[0])
		freq, err1 := strconv.Atoi(f[1])
		grade, err2 := strconv.Atoi(f[2])
		if len(rs) != 1 || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("frequency.txt: bad line %q", line)
		}
		out[rs[0]] = rank{freq, grade}
	}
	return out, sc.Err()
}

// key orders a character: by kFrequency, then by school grade; a
// character without a value comes after those with one.
func (r rank) key() [2]int {
	f, g := r.freq, r.grade
	if f == 0 {
		f = 6
	}
	if g == 0 {
		g = 7
	}
	return [2]int{f, g}
}

// byFrequency sorts characters most common first; characters of equal rank
// keep their order (GB2312's, level-1 first).
func byFrequency(chars []rune, rk map[rune]rank) {
	slices.SortStableFunc(chars, func(a, b rune) int {
		ka, kb := rk[a].key(), rk[b].key()
		if c := ka[0] - kb[0]; c != 0 {
			return c
		}
		return ka[1] - kb[1]
	})
}

// extractUnihan writes frequency.txt from the Unihan files in dir
// (Unihan_DictionaryLikeData.txt, bzip2-compressed or not).
func extractUnihan(dir, out string) error {
	var r io.Reader
	path := filepath.Join(dir, "Unihan_DictionaryLikeData.txt")
	if b, err := os.ReadFile(path); err == nil {
		r = bytes.NewReader(b)
	} else {
		b, err := os.ReadFile(path + ".bz2")
		if err != nil {
			return fmt.Errorf("unihan: %w", err)
		}
		r = bzip2.NewReader(bytes.NewReader(b))
	}
	recs, err := gb2312()
	if err != nil {
		return err
	}
	inGB := map[rune]bool{}
	for _, rec := range recs {
		inGB[rec.han] = true
	}
	rk := map[rune]rank{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 3 || !strings.HasPrefix(f[0], "U+") {
			continue
		}
		cp, err := strconv.ParseUint(f[0][2:], 16, 32)
		if err != nil || !inGB[rune(cp)] {
			continue
		}
		v, err := strconv.Atoi(f[2])
		if err != nil {
			continue
		}
		x := rk[rune(cp)]
		switch f[1] {
		case "kFrequency":
			x.freq = v
		case "kGradeLevel":
			x.grade = v
		default:
			continue
		}
		rk[rune(cp)] = x
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("unihan: %w", err)
	}
	var b strings.Builder
	b.WriteString(unihanNotice)
	b.WriteString("# character kFrequency kGradeLevel (0: no value), GB2312 order\n")
	for _, rec := range recs {
		if x, ok := rk[rec.han]; ok {
			fmt.Fprintf(&b, "%c %d %d\n", rec.han, x.freq, x.grade)
		}
	}
	return os.WriteFile(out, []byte(b.String()), 0o644)
}

// unihanNotice heads frequency.txt, as the Unicode licence asks.
const unihanNotice = `# Extract of the Unicode Han Database (Unihan): the kFrequency and kGradeLevel
# fields of Unihan_DictionaryLikeData.txt (Unicode 15.0, Debian's unicode-data
# package) for the GB2312 Han characters. MODIFIED from the original data file:
# only these two fields of these characters, one line per character.
# Made by: go run ./kiosk/internal/pinyingen -unihan /usr/share/unicode
#
# COPYRIGHT AND PERMISSION NOTICE
#
# Copyrigh © 1991-2005 Unicode, Inc. All rights reserved.
# Distributed under the Terms of Use in http://www.unicode.org/copyright.html.
#
# Permission is hereby granted, free of charge, to any person obtaining a copy
# of the Unicode data files and any associated documentation (the "Data Files")
# or Unicode software and any associated documentation (the "Software") to deal
# in the Data Files or Software without restriction, including without limitation
# the rights to use, copy, modify, merge, publish, distribute, and/or sell copies
# of the Data Files or Software, and to permit persons to whom the Data Files
# or Software are furnished to do so, provided that (a) the above copyright notice(s)
# and this permission notice appear with all copies of the Data Files or Software,
# (b) both the above copyright notice(s) and this permission notice appear
# in associated documentation, and (c) there is clear notice in each modified
# Data File or in the Software as well as in the documentation associated with
# the Data File(s) or Software that the data or software has been modified.
#
# THE DATA FILES AND SOFTWARE ARE PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND,
# EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
# FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT OF THIRD PARTY RIGHTS.
# IN NO EVENT SHALL THE COPYRIGHT HOLDER OR HOLDERS INCLUDED IN THIS NOTICE BE LIABLE
# FOR ANY CLAIM, OR ANY SPECIAL INDIRECT OR CONSEQUENTIAL DAMAGES, OR ANY DAMAGES
# WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN ACTION OF
# CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR IN CONNECTION
# WITH THE USE OR PERFORMANCE OF THE DATA FILES OR SOFTWARE.
#
# Except as contained in this notice, the name of a copyright holder shall not be used
# in advertising or otherwise to promote the sale, use or other dealings in these
# Data Files or Software without prior written authorization of the copyright holder.
#
`
