package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"onedoor/kiosk/flow"
)

// catalogScreen is the catalog by theme or search; it owns the search
// words being typed.
type catalogScreen struct {
	k     *Kiosk
	input string // search words typed, not yet searched
	open  bool   // the keypad is out for the search box
}

func (sc *catalogScreen) leave() { sc.input, sc.open = "", false }
func (sc *catalogScreen) wipe()  { sc.leave() }

func (sc *catalogScreen) draw(s flow.State) fyne.CanvasObject {
	k := sc.k
	// Themes down the left; the search box above the items.
	var themes []fyne.CanvasObject
	style := StyleNormal
	if s.Theme == "" && s.Query == "" {
		style = StyleChosen
	}
	themes = append(themes, NewStyledButton(k.tr.T("catalog.all_themes"), style, func() { k.dispatch(flow.ChooseTheme{}) }))
	for _, th := range s.Themes {
		id := th.ID
		st := StyleNormal
		if s.Theme == id {
			st = StyleChosen
		}
		themes = append(themes, NewStyledButton(k.tr.Pick(th.Name, th.NameEN), st, func() { k.dispatch(flow.ChooseTheme{Theme: id}) }))
	}
	perThemes := 7
	if s.ElderMode {
		perThemes = 5
	}
	themeList := k.paged("themes", themes, perThemes, 1)
	themeList.Stretch = true

	search := NewField(k.tr.T("catalog.search_hint"))
	search.Value = sc.input
	search.Active = sc.open
	search.OnChanged = func(v string) { sc.input = v }
	search.OnTapped = func() {
		sc.open = true
		k.touch()
		k.Refresh()
	}
	doSearch := func() {
		if k.keypad != nil {
			k.keypad.CommitLetters() // pinyin typed but not turned into characters
		}
		sc.open = false
		k.dispatch(flow.SearchCatalog{Query: sc.input})
	}
	search.OnSubmit = doSearch
	go_ := NewStyledButton(k.tr.T("btn.search"), StylePrimary, doSearch)
	searchRow := container.NewBorder(nil, nil, nil, go_, search)

	var items []fyne.CanvasObject
	for _, it := range s.Items {
		items = append(items, k.itemButton(it))
	}
	var list fyne.CanvasObject
	if len(items) == 0 {
		list = para(k.tr.T("catalog.empty"))
	} else {
		per, cols := 8, 2
		if s.ElderMode {
			per, cols = 4, 1
		}
		if sc.open {
			per, cols = 3, 1
		}
		pl := k.paged("items", items, per, cols)
		pl.Stretch = true
		list = container.NewBorder(widget.NewLabel(k.tr.T("catalog.count", len(items))), nil, nil, nil, pl)
	}
	center := container.NewBorder(searchRow, nil, nil, nil, list)
	if sc.open {
		kp := k.newKeypad("search", search, KeypadPinyin, KeypadLatin)
		return container.NewBorder(nil, nil, nil, kp, center)
	}
	return container.NewBorder(nil, nil, themeList, nil, center)
}
