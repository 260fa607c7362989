package escpos

import "strings"

// Columns is the printed width of s in Latin columns (Chinese counts two).
func Columns(s string) int {
	n := 0
	for _, r := range s {
		n += RuneColumns(r)
	}
	return n
}

// Wrap breaks s into lines of at most cols columns. A Chinese character may
// end a line anywhere; a run of Latin letters or digits (a receipt number, a
// URL) is kept whole when it fits on a line of its own.
func Wrap(s string, cols int) []string {
	if cols < 2 {
		cols = 2
	}
	var lines []string
	var cur []rune
	curCols := 0
	flush := func() {
		lines = append(lines, strings.TrimRight(string(cur), " "))
		cur, curCols = nil, 0
	}
	rs := []rune(s)
	for i := 0; i < len(rs); {
		// A token is a Latin word or one other character.
		j := i + 1
		if isWordRune(rs[i]) {
			for j < len(rs) && isWordRune(rs[j]) {
				j++
			}
		}
		tok := rs[i:j]
		tc := Columns(string(tok))
		if curCols+tc <= cols {
			if !(curCols == 0 && len(tok) == 1 && tok[0] == ' ') {
				cur = append(cur, tok...)
				curCols += tc
			}
			i = j
			continue
		}
		if tc <= cols && curCols > 0 {
			if len(tok) == 1 && strings.ContainsRune(noLineStart, tok[0]) && len(cur) > 1 {
				// Chinese typesetting never starts a line with closing
				// punctuation: carry the character before it along.
				carry := cur[len(cur)-1]
				cur = cur[:len(cur)-1]
				flush()
				cur, curCols = []rune{carry}, RuneColumns(carry)
				continue
			}
			flush()
			continue
		}
		// Longer than a whole line: split it wherever it runs out.
		for _, r := range tok {
			if curCols+RuneColumns(r) > cols {
				flush()
			}
			cur = append(cur, r)
			curCols += RuneColumns(r)
		}
		i = j
	}
	if len(cur) > 0 || len(lines) == 0 {
		flush()
	}
	return lines
}

// noLineStart is punctuation that may not begin a line.
const noLineStart = "，。、；：！？）》」』】,.;:!?)"

func isWordRune(r rune) bool { return r > ' ' && r < 0x7F }

// PadRight pads s with spaces to cols columns.
func PadRight(s string, cols int) string {
	if n := Columns(s); n < cols {
		return s + strings.Repeat(" ", cols-n)
	}
	return s
}

// LeftRight puts left and right on one line of cols columns, with right
// flush against the margin; if they do not fit, right goes on its own line.
func LeftRight(left, right string, cols int) []string {
	gap := cols - Columns(left) - Columns(right)
	if gap >= 1 {
		return []string{left + strings.Repeat(" ", gap) + right}
	}
	out := Wrap(left, cols)
	for _, l := range Wrap(right, cols) {
		out = append(out, strings.Repeat(" ", max(0, cols-Columns(l)))+l)
	}
	return out
}

// Labelled lays out "label value" with the value wrapped under itself
// (hanging indent), as on a form.
func Labelled(label, value string, cols int) []string {
	indent := Columns(label)
	if indent > cols/2 {
		return append([]string{label}, Wrap(value, cols)...)
	}
	var out []string
	for i, l := range Wrap(value, cols-indent) {
		if i == 0 {
			out = append(out, label+l)
		} else {
			out = append(out, strings.Repeat(" ", indent)+l)
		}
	}
	return out
}

// Rule is a horizontal rule of cols dashes.
func Rule(cols int) string { return strings.Repeat("-", cols) }
