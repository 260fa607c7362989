package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"onedoor/kiosk/catalog"
	"onedoor/kiosk/flow"
)

func (k *Kiosk) itemButton(it *catalog.Item) *Button {
	id := it.ID
	b := NewButton(k.itemName(it)+"\n"+k.agency(it), func() { k.dispatch(flow.SelectItem{ItemID: id}) })
	b.Big = true
	return b
}

// homeScreen is Home: start, lookup, elder mode and the popular items.
type homeScreen struct {
	k *Kiosk
}

func (sc *homeScreen) draw(s flow.State) fyne.CanvasObject {
	k := sc.k
	start := NewStyledButton(k.tr.T("btn.start"), StylePrimary, func() { k.dispatch(flow.Start{}) })
	start.Big = true
	start.MinWidth = 5 * currentTarget()
	lookup := NewButton(k.tr.T("btn.lookup"), func() { k.dispatch(flow.OpenLookup{}) })
	lookup.Big = true
	lookup.MinWidth = 5 * currentTarget()
	var items []fyne.CanvasObject
	for _, it := range s.Popular {
		items = append(items, k.itemButton(it))
	}
	per := 6
	if s.ElderMode {
		per = 4
	}
	// Elder mode gets a prominent entry on Home, as the MIIT rules ask,
	// besides the switch in the header of every screen.
	elderKey, elderStyle := "elder.on", StyleNormal
	if s.ElderMode {
		elderKey, elderStyle = "elder.off", StyleChosen
	}
	elder := NewStyledButton(k.tr.T(elderKey), elderStyle, func() {
		k.dispatch(flow.SetElderMode{On: !k.state.ElderMode})
	})
	elder.Big = true
	elder.MinWidth = 3 * currentTarget()
	// A card placed on Home opens the lookup by card (kiosk/flow); say so,
	// or nobody would try.
	cardHint := widget.NewLabel(k.tr.T("home.card_hint"))
	cardHint.Alignment = fyne.TextAlignCenter
	cardHint.Wrapping = fyne.TextWrapWord
	top := container.NewVBox(
		container.NewCenter(heading(k.tr.T("home.welcome"))),
		container.NewCenter(container.NewHBox(start, lookup, elder)),
		cardHint,
		subheading(k.tr.T("home.popular")),
	)
	var bottom fyne.CanvasObject
	if k.opts.SampleCatalog {
		n := widget.NewLabel(k.tr.T("app.sample_catalog"))
		n.Wrapping = fyne.TextWrapWord
		n.Importance = widget.LowImportance
		bottom = n
	}
	list := k.paged("popular", items, per, 2)
	list.Stretch = true
	return container.NewBorder(top, bottom, nil, nil, list)
}
