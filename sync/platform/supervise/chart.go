package supervise

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// seriesColors are the bars' colours, distinguishable in grey print too.
var seriesColors = [...]string{"#1565c0", "#e65100", "#2e7d32", "#6a1b9a"}

// BarChart draws grouped bars as inline SVG: no script and nothing from
// outside (service halls are often on closed networks, and the back
// office's Content-Security-Policy allows neither). Each bar carries its
// value as text too, so the chart reads without colour and prints.
func BarChart(title string, labels []string, series [][]float64, names []string, format string) template.HTML {
	const w, h, left, top, bottom = 600, 260, 40, 30, 60
	var b strings.Builder
	fmt.Fprintf(&b, `<figure class="chart"><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`,
		w, h, w, h, html.EscapeString(title))
	fmt.Fprintf(&b, `<text x="%d" y="18" font-size="14" font-weight="bold">%s</text>`, left, html.EscapeString(title))
	top2 := 0.0
	for _, s := range series {
		for _, v := range s {
			top2 = math.Max(top2, v)
		}
	}
	if len(labels) == 0 || top2 == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="13" fill="#777">（无数据）</text></svg></figure>`, left, h/2)
		return template.HTML(b.String())
	}
	plotW, plotH := float64(w-left-10), float64(h-top-bottom)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#999"/>`, left, h-bottom, w-10, h-bottom)
	slot := plotW / float64(len(labels))
	barW := math.Min(40, slot*0.8/float64(len(series)))
	for i, l := range labels {
		x0 := float64(left) + slot*float64(i) + (slot-barW*float64(len(series)))/2
		for si, s := range series {
			v := 0.0
			if i < len(s) {
				v = s[i]
			}
			bh := plotH * v / top2
			x := x0 + barW*float64(si)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`,
				x, float64(h-bottom)-bh, barW-1, bh, seriesColors[si%len(seriesColors)], html.EscapeString(l), html.EscapeString(names[si]), fmt.Sprintf(format, v))
			if len(labels)*len(series) <= 24 {
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="middle">%s</text>`, x+barW/2, float64(h-bottom)-bh-3, fmt.Sprintf(format, v))
			}
		}
		if len(labels) <= 24 || i%2 == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" text-anchor="middle">%s</text>`, x0+barW*float64(len(series))/2, h-bottom+15, html.EscapeString(clip(l, 10)))
		}
	}
	if len(series) > 1 {
		for si, n := range names {
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d" font-size="11">%s</text>`,
				left+si*110, h-18, seriesColors[si%len(seriesColors)], left+si*110+14, h-9, html.EscapeString(n))
		}
	}
	b.WriteString(`</svg></figure>`)
	return template.HTML(b.String())
}
