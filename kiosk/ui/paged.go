package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// PagedList shows its items a page at a time with large previous and next
// buttons. Fyne's desktop build does not scroll lists by dragging, and
// paging is easier for elderly residents than scrolling anyway.
//
// Pages are cut when the list is laid out, by height: a page holds as many
// rows (of cols items) as fit, up to perPage items, so nothing is ever drawn
// over the buttons or clipped, whatever the language or elder mode does to
// the items' height. Items off the current page are hidden.
type PagedList struct {
	widget.BaseWidget
	items   []fyne.CanvasObject
	perPage int
	cols    int
	page    int
	// Stretch spreads spare height over the rows, so a page of buttons
	// fills its area; otherwise rows keep their natural height.
	Stretch bool
	// Rows is how many rows' worth of height the list asks for (3 when
	// unset): a screen whose fixed parts fill most of the window (the
	// paper-out receipt in elder mode) asks for one and pages the rest.
	Rows int
	tr   Texts
	// OnPage is called with the new page after the resident pages, so the
	// screen can remember it across redraws.
	OnPage func(page int)
	// pinned is an item whose page is shown whatever the cut, until the
	// resident pages.
	pinned fyne.CanvasObject
	// asked is the page asked for (NewPagedList's, then the resident's):
	// a layout at an interim size may cut fewer pages and clamp the page
	// shown, and the next cut at the final size must go back to it, or
	// a redraw in the middle of paging could never reach the last page.
	asked int

	starts     []int // first item of each page, from the last layout
	prev, next *Button
	label      *widget.Label
	nav        *fyne.Container
}

// NewPagedList lays items out in cols columns, at most perPage to a page,
// starting at page (clamped once the pages are known).
func NewPagedList(tr Texts, items []fyne.CanvasObject, perPage, cols, page int) *PagedList {
	if perPage < 1 {
		perPage = 1
	}
	if cols < 1 {
		cols = 1
	}
	p := &PagedList{items: items, perPage: perPage, cols: cols, tr: tr, page: max(0, page), asked: max(0, page)}
	p.ExtendBaseWidget(p)
	p.prev = NewButton(tr.T("btn.prev_page"), func() { p.SetPage(p.page - 1) })
	p.next = NewButton(tr.T("btn.next_page"), func() { p.SetPage(p.page + 1) })
	p.label = widget.NewLabel("")
	p.label.Alignment = fyne.TextAlignCenter
	p.nav = container.NewBorder(nil, nil, p.prev, p.next, p.label)
	// Until the first layout, one page per item: the page asked for (the
	// one the resident was on before a redraw, counted by height) must
	// survive until the layout cuts the real pages; cutting by perPage
	// here clamped it, and a list with more pages by height than by count
	// could never show its last page.
	for i := range items {
		p.starts = append(p.starts, i)
	}
	if len(p.starts) == 0 {
		p.starts = []int{0}
	}
	p.showPage()
	return p
}

// Pages is the number of pages (at least 1), as of the last layout.
func (p *PagedList) Pages() int { return len(p.starts) }

// Len is the number of items.
func (p *PagedList) Len() int { return len(p.items) }

// Page is the current page, from 0.
func (p *PagedList) Page() int { return p.page }

// PageItems returns the items on the current page.
func (p *PagedList) PageItems() []fyne.CanvasObject {
	from, to := p.bounds(p.page)
	return p.items[from:to]
}

func (p *PagedList) bounds(page int) (int, int) {
	from := p.starts[page]
	to := len(p.items)
	if page+1 < len(p.starts) {
		to = p.starts[page+1]
	}
	return from, to
}

// SetPage shows page n, clamped to the pages there are.
func (p *PagedList) SetPage(n int) {
	n = max(0, min(n, p.Pages()-1))
	p.pinned = nil
	changed := n != p.page
	p.page, p.asked = n, n
	p.showPage()
	p.Refresh()
	if changed && p.OnPage != nil {
		p.OnPage(n)
	}
}

// showPage hides the items of other pages and updates the buttons.
func (p *PagedList) showPage() {
	p.page = max(0, min(p.page, p.Pages()-1))
	from, to := p.bounds(p.page)
	for i, it := range p.items {
		if i >= from && i < to {
			it.Show()
		} else {
			it.Hide()
		}
	}
	p.label.SetText(p.tr.T("catalog.page", p.page+1, p.Pages()))
	p.prev.Disabled = p.page == 0
	p.next.Disabled = p.page >= p.Pages()-1
	p.prev.Refresh()
	p.next.Refresh()
	if p.Pages() <= 1 {
		p.nav.Hide()
	} else {
		p.nav.Show()
	}
}

// Next shows the next page.
func (p *PagedList) Next() { p.SetPage(p.page + 1) }

// Prev shows the previous page.
func (p *PagedList) Prev() { p.SetPage(p.page - 1) }

// PrevButton is the "previous page" button.
func (p *PagedList) PrevButton() *Button { return p.prev }

// NextButton is the "next page" button.
func (p *PagedList) NextButton() *Button { return p.next }

// CreateRenderer implements fyne.Widget.
func (p *PagedList) CreateRenderer() fyne.WidgetRenderer {
	return &pagedRenderer{p: p}
}

type pagedRenderer struct{ p *PagedList }

func (r *pagedRenderer) cellWidth(w float32) float32 {
	pad := theme.Size(theme.SizeNamePadding)
	return (w - pad*float32(r.p.cols-1)) / float32(r.p.cols)
}

// rowHeights measures each row at cell width w: wrapped text is taller
// in a narrow cell.
func (r *pagedRenderer) rowHeights(cellW float32) []float32 {
	p := r.p
	var hs []float32
	for i := 0; i < len(p.items); i += p.cols {
		var h float32
		for _, it := range p.items[i:min(i+p.cols, len(p.items))] {
			// Twice: a wrapped label knows its height only once it has
			// been laid out at the cell's width.
			it.Resize(fyne.NewSize(cellW, max(it.Size().Height, 1)))
			it.Resize(fyne.NewSize(cellW, it.MinSize().Height))
			h = max(h, it.MinSize().Height)
		}
		hs = append(hs, h)
	}
	return hs
}

func (r *pagedRenderer) Layout(size fyne.Size) {
	p := r.p
	pad := theme.Size(theme.SizeNamePadding)
	navH := p.nav.MinSize().Height
	cellW := r.cellWidth(size.Width)
	rows := r.rowHeights(cellW)
	// Cut pages with the nav row reserved whenever more than one page is
	// needed; try without it first.
	cut := func(avail float32) []int {
		starts := []int{0}
		var used float32
		count := 0
		for ri, h := range rows {
			first := ri * p.cols
			n := min(p.cols, len(p.items)-first)
			need := h
			if count > 0 {
				need += pad
			}
			if count > 0 && (used+need > avail || count+n > p.perPage) {
				starts = append(starts, first)
				used, count, need = 0, 0, h
			}
			used += need
			count += n
		}
		return starts
	}
	starts := cut(size.Height)
	if len(starts) > 1 {
		starts = cut(size.Height - navH - pad)
	}
	if !equalInts(starts, p.starts) {
		p.starts = starts
		p.page = p.asked
		p.followPin()
		p.showPage()
	}
	area := size.Height
	if p.Pages() > 1 {
		area -= navH + pad
	}
	from, to := p.bounds(p.page)
	firstRow, lastRow := from/p.cols, (to-1)/p.cols
	var natural float32
	for ri := firstRow; ri <= lastRow && ri < len(rows); ri++ {
		natural += rows[ri]
	}
	nRows := lastRow - firstRow + 1
	natural += pad * float32(nRows-1)
	extra := float32(0)
	if p.Stretch && nRows > 0 && area > natural {
		// Spread the spare height as if the page were full, so rows keep
		// one size from page to page.
		full := max(nRows, (p.perPage+p.cols-1)/p.cols)
		extra = (area - natural) / float32(full)
		if nRows < full {
			extra = min(extra, (area-natural)/float32(nRows))
		}
	}
	y := float32(0)
	for ri := firstRow; ri <= lastRow && ri < len(rows); ri++ {
		h := rows[ri] + extra
		for c := 0; c < p.cols; c++ {
			i := ri*p.cols + c
			if i >= to {
				break
			}
			it := p.items[i]
			it.Move(fyne.NewPos(float32(c)*(cellW+pad), y))
			it.Resize(fyne.NewSize(cellW, h))
		}
		y += h + pad
	}
	p.nav.Move(fyne.NewPos(0, size.Height-navH))
	p.nav.Resize(fyne.NewSize(size.Width, navH))
}

// ShowItem shows the page holding it, now and after every re-cut, until the
// resident pages by hand.
func (p *PagedList) ShowItem(it fyne.CanvasObject) {
	p.pinned = it
	p.followPin()
	p.showPage()
}

func (p *PagedList) followPin() {
	if p.pinned == nil {
		return
	}
	for pg := range p.starts {
		from, to := p.bounds(pg)
		for i := from; i < to; i++ {
			if p.items[i] == p.pinned {
				p.page = pg
				return
			}
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (r *pagedRenderer) MinSize() fyne.Size {
	p := r.p
	pad := theme.Size(theme.SizeNamePadding)
	var h float32
	for _, it := range p.items {
		h = max(h, it.MinSize().Height)
	}
	// Nor the tallest item whole: a long paragraph (a written promise in
	// elder mode) would make the window grow off the screen; the list
	// asks for room for a few rows' worth and pages by height in what it
	// gets.
	rows := r.p.Rows
	if rows < 1 {
		rows = 3
	}
	h = min(h, float32(rows)*currentTarget())
	nav := p.nav.MinSize()
	// Not the widest item times the columns: the list gives its items its
	// own width (a long button label is drawn smaller, text wraps), and a
	// window grows to its content's minimum size, which on a fixed-size
	// kiosk screen pushes the right edge off the screen.
	return fyne.NewSize(nav.Width, h+nav.Height+pad)
}

func (r *pagedRenderer) Refresh() {
	r.Layout(r.p.Size())
	for _, it := range r.p.items {
		it.Refresh()
	}
	r.p.nav.Refresh()
}

func (r *pagedRenderer) Objects() []fyne.CanvasObject {
	return append(append([]fyne.CanvasObject(nil), r.p.items...), r.p.nav)
}

func (r *pagedRenderer) Destroy() {}
