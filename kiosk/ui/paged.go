package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"
)

// PagedList shows a fixed number of items per page with large previous and
// next buttons. Fyne's desktop build does not scroll lists by dragging, and
// paging is easier for elderly residents than scrolling anyway.
type PagedList struct {
	widget.BaseWidget
	items   []fyne.CanvasObject
	perPage int
	cols    int
	page    int
	tr      Texts
	// OnPage is called with the new page after the resident pages, so the
	// screen can remember it across redraws.
	OnPage func(page int)

	grid       *fyne.Container
	prev, next *Button
	label      *widget.Label
	box        *fyne.Container
}

// NewPagedList lays items out in cols columns, perPage to a page, starting
// at page (clamped to the pages there are).
func NewPagedList(tr Texts, items []fyne.CanvasObject, perPage, cols, page int) *PagedList {
	if perPage < 1 {
		perPage = 1
	}
	if cols < 1 {
		cols = 1
	}
	p := &PagedList{items: items, perPage: perPage, cols: cols, tr: tr}
	p.ExtendBaseWidget(p)
	p.grid = container.NewGridWithColumns(cols)
	p.prev = NewButton(tr.T("btn.prev_page"), func() { p.SetPage(p.page - 1) })
	p.next = NewButton(tr.T("btn.next_page"), func() { p.SetPage(p.page + 1) })
	p.label = widget.NewLabel("")
	p.label.Alignment = fyne.TextAlignCenter
	nav := container.NewBorder(nil, nil, p.prev, p.next, p.label)
	p.box = container.NewBorder(nil, nav, nil, nil, p.grid)
	p.page = -1
	p.SetPage(page)
	return p
}

// Pages is the number of pages (at least 1).
func (p *PagedList) Pages() int {
	return max(1, (len(p.items)+p.perPage-1)/p.perPage)
}

// Page is the current page, from 0.
func (p *PagedList) Page() int { return p.page }

// PageItems returns the items on the current page.
func (p *PagedList) PageItems() []fyne.CanvasObject {
	from := p.page * p.perPage
	return p.items[min(from, len(p.items)):min(from+p.perPage, len(p.items))]
}

// SetPage shows page n, clamped to the pages there are.
func (p *PagedList) SetPage(n int) {
	n = max(0, min(n, p.Pages()-1))
	changed := n != p.page && p.page >= 0
	p.page = n
	vis := append([]fyne.CanvasObject(nil), p.PageItems()...)
	// Pad the last page so rows keep their height and the buttons stay put.
	for len(vis) < p.perPage {
		vis = append(vis, layout.NewSpacer())
	}
	p.grid.Objects = vis
	p.grid.Refresh()
	p.label.SetText(p.tr.T("catalog.page", n+1, p.Pages()))
	p.prev.Disabled = n == 0
	p.next.Disabled = n >= p.Pages()-1
	p.prev.Refresh()
	p.next.Refresh()
	if p.Pages() == 1 {
		p.prev.Hide()
		p.next.Hide()
		p.label.Hide()
	}
	if changed && p.OnPage != nil {
		p.OnPage(n)
	}
}

// Next and Prev page as the buttons do.
func (p *PagedList) Next() { p.SetPage(p.page + 1) }

// Prev shows the previous page.
func (p *PagedList) Prev() { p.SetPage(p.page - 1) }

// PrevButton and NextButton are exposed for tests that tap them.
func (p *PagedList) PrevButton() *Button { return p.prev }

// NextButton is the "next page" button.
func (p *PagedList) NextButton() *Button { return p.next }

// CreateRenderer implements fyne.Widget.
func (p *PagedList) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(p.box)
}
