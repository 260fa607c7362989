package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	qrcode "github.com/skip2/go-qrcode"

	"onedoor/kiosk/catalog"
	"onedoor/kiosk/flow"
	"onedoor/kiosk/i18n"
	"onedoor/pii"
)

func (k *Kiosk) itemName(it *catalog.Item) string {
	if it == nil {
		return ""
	}
	return k.tr.Pick(it.Name, it.NameEN)
}

// agency is the implementing body's name in the current language.
func (k *Kiosk) agency(it *catalog.Item) string {
	return k.tr.Pick(it.Agency.Name, it.Agency.NameEN)
}

// lines picks a list of catalog lines in the current language: the English
// line where there is one, else the Chinese (en is line for line, as the
// catalog validates).
func (k *Kiosk) lines(zh, en []string) []string {
	out := make([]string, len(zh))
	for i, l := range zh {
		if i < len(en) {
			l = k.tr.Pick(l, en[i])
		}
		out[i] = l
	}
	return out
}

// place is where an item is handled, address and window, in the current
// language.
func (k *Kiosk) place(p catalog.Place) string {
	addr, window := k.tr.Pick(p.Address, p.AddressEN), k.tr.Pick(p.Window, p.WindowEN)
	sep := " "
	if k.tr.Lang() == i18n.EN && p.AddressEN != "" && p.WindowEN != "" {
		sep = ", "
	}
	if addr == "" || window == "" {
		sep = ""
	}
	return strings.TrimSpace(addr + sep + window)
}

func (k *Kiosk) itemButton(it *catalog.Item) *Button {
	id := it.ID
	b := NewButton(k.itemName(it)+"\n"+k.agency(it), func() { k.dispatch(flow.SelectItem{ItemID: id}) })
	b.Big = true
	return b
}

func (k *Kiosk) home(s flow.State) fyne.CanvasObject {
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

func (k *Kiosk) catalog(s flow.State) fyne.CanvasObject {
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
	search.Value = k.searchInput
	search.Active = k.searchOpen
	search.OnChanged = func(v string) { k.searchInput = v }
	search.OnTapped = func() {
		k.searchOpen = true
		k.touch()
		k.Refresh()
	}
	doSearch := func() {
		if k.keypad != nil {
			k.keypad.CommitLetters() // pinyin typed but not turned into characters
		}
		k.searchOpen = false
		k.dispatch(flow.SearchCatalog{Query: k.searchInput})
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
		if k.searchOpen {
			per, cols = 3, 1
		}
		pl := k.paged("items", items, per, cols)
		pl.Stretch = true
		list = container.NewBorder(widget.NewLabel(k.tr.T("catalog.count", len(items))), nil, nil, nil, pl)
	}
	center := container.NewBorder(searchRow, nil, nil, nil, list)
	if k.searchOpen {
		kp := k.newKeypad("search", search, KeypadPinyin, KeypadLatin)
		return container.NewBorder(nil, nil, nil, kp, center)
	}
	return container.NewBorder(nil, nil, themeList, nil, center)
}

// newKeypad makes the screen's keypad writing into target; every key
// restarts the idle timer. slot names the input on this screen: each key
// tap redraws the whole screen (the idle timer is reset through the flow),
// so the keypad of the previous drawing of the same slot hands over its
// layout and unfinished pinyin, which would otherwise be lost with every
// letter. target also gets the canvas focus after the redraw (see Render).
func (k *Kiosk) newKeypad(slot string, target *Field, modes ...KeypadKind) *Keypad {
	kp := NewKeypad(k.tr, k.opts.Dict, k.availableModes(modes)...)
	kp.OnKey = k.touch
	kp.SetTarget(target)
	if k.prevKeypad != nil && k.prevSlot == slot {
		kp.takeOver(k.prevKeypad)
	}
	k.keypad, k.keypadSlot, k.target = kp, slot, target
	return kp
}

func (k *Kiosk) availableModes(modes []KeypadKind) []KeypadKind {
	if k.opts.Dict != nil {
		return modes
	}
	var out []KeypadKind
	for _, m := range modes {
		if m != KeypadPinyin {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		out = []KeypadKind{KeypadLatin}
	}
	return out
}

// Keypad is the keypad on screen, nil when there is none.
func (k *Kiosk) Keypad() *Keypad { return k.keypad }

func (k *Kiosk) guide(s flow.State) fyne.CanvasObject {
	it := s.Item
	if it == nil {
		return widget.NewLabel("")
	}
	var sections []fyne.CanvasObject
	sec := func(titleKey string, lines ...string) {
		var objs []fyne.CanvasObject
		objs = append(objs, subheading(k.tr.T(titleKey)))
		for _, l := range lines {
			if strings.TrimSpace(l) != "" {
				objs = append(objs, para(l))
			}
		}
		sections = append(sections, card(objs...))
	}
	sec("guide.conditions", bullets(k.lines(it.AcceptConditions, it.AcceptConditionsEN))...)
	var mats []string
	for _, m := range it.Materials {
		open, comma, closing := "（", "，", "）"
		if k.tr.Lang() == i18n.EN {
			open, comma, closing = " (", ", ", ")"
		}
		line := k.tr.Pick(m.Name, m.NameEN) + open + k.tr.T("guide.required_"+m.Required) + comma + k.tr.T("guide.form_"+m.Form) + closing
		if m.ECertAllowed() {
			line += " " + k.tr.T("guide.ecert_ok")
		}
		if m.PromiseAllowed {
			line += " " + k.tr.T("guide.promise_ok")
		}
		if m.SharedVerification {
			line += " " + k.tr.T("guide.shared_ok")
		}
		if m.Required == "conditional" && m.Condition != "" {
			// "Required in some cases" says nothing without the cases.
			line += " " + k.tr.T("guide.when", k.tr.Pick(m.Condition, m.ConditionEN))
		}
		mats = append(mats, "• "+line)
	}
	sec("guide.materials", mats...)
	var limits []string
	if it.CaseKind == "instant" {
		limits = append(limits, k.tr.T("guide.instant"))
	}
	if it.TimeLimit.Legal.Value > 0 {
		limits = append(limits, k.tr.T("guide.legal_limit", k.limit(it.TimeLimit.Legal)))
	}
	if it.TimeLimit.Promised.Value > 0 {
		limits = append(limits, k.tr.T("guide.promised_limit", k.limit(it.TimeLimit.Promised)))
	}
	if it.VisitsRequired == 0 {
		limits = append(limits, k.tr.T("guide.visits_none"))
	} else {
		limits = append(limits, k.tr.T("guide.visits", it.VisitsRequired))
	}
	sec("guide.time_limit", limits...)
	var fees []string
	for _, f := range it.Fees {
		fees = append(fees, k.tr.Pick(f.Name, f.NameEN)+k.colon()+k.tr.Pick(f.Standard, f.StandardEN))
	}
	if len(fees) == 0 {
		fees = []string{k.tr.T("guide.free")}
	}
	sec("guide.fees", fees...)
	var places []string
	for _, p := range it.Places {
		places = append(places, k.place(p), k.tr.T("guide.hours")+k.colon()+k.tr.Pick(p.Hours, p.HoursEN))
	}
	for _, c := range it.Consult {
		places = append(places, k.tr.T("guide.consult")+k.colon()+c.Value)
	}
	sec("guide.place", places...)
	if !s.CanApply {
		sections = append([]fyne.CanvasObject{card(para(k.tr.T("guide.guide_only")))}, sections...)
	}
	per, cols := 4, 2
	if s.ElderMode {
		cols = 1
	}
	title := container.NewVBox(heading(k.itemName(it)), widget.NewLabel(k.agency(it)))
	return container.NewBorder(title, nil, nil, nil, k.paged("sections", sections, per, cols))
}

func bullets(lines []string) []string {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		out = append(out, "• "+l)
	}
	return out
}

func (k *Kiosk) limit(l catalog.Limit) string {
	if l.Unit == "workday" {
		return k.tr.T("guide.workdays", l.Value)
	}
	return k.tr.T("guide.days", l.Value)
}

func (k *Kiosk) identify(s flow.State) fyne.CanvasObject {
	cardArea := card(
		container.NewCenter(heading(k.tr.T("identify.title"))),
		para(k.tr.T("identify.place_card")),
		container.NewCenter(cardIcon()),
	)
	field := NewField(k.tr.T("identify.type_hint"))
	field.Value = k.idInput
	field.Active = true
	field.MaxLen = 18
	field.Invalid = s.Error.Key == "err.id_invalid"
	field.OnChanged = func(v string) { k.idInput = v }
	enterID := func() { k.dispatch(flow.EnterIDNumber{Number: k.idInput}) }
	field.OnSubmit = enterID
	ok := NewStyledButton(k.tr.T("btn.confirm_yes"), StylePrimary, enterID)
	typed := container.NewVBox(para(k.tr.T("identify.or_type")), container.NewBorder(nil, nil, nil, ok, field))
	kp := k.newKeypad("id_number", field, KeypadIDNumber)
	left := container.NewVBox(cardArea, typed)
	return container.NewBorder(nil, nil, nil, kp, container.NewPadded(left))
}

// cardIcon is a drawn ID card outline, so the screen needs no image file.
func cardIcon() fyne.CanvasObject {
	r := canvas.NewRectangle(theme.Color(theme.ColorNameHeaderBackground))
	r.StrokeColor = theme.Color(theme.ColorNamePrimary)
	r.StrokeWidth = 4
	r.CornerRadius = 12
	r.SetMinSize(fyne.NewSize(2.7*currentTarget(), 1.7*currentTarget()))
	return r
}

func (k *Kiosk) fieldLabel(f catalog.Field) string {
	l := k.tr.Pick(f.Label, f.LabelEN)
	if f.Required {
		l += " *"
	}
	return l
}

func keypadFor(kind string) []KeypadKind {
	switch kind {
	case "phone", "number", "date":
		return []KeypadKind{KeypadNumeric}
	case "id_number":
		return []KeypadKind{KeypadIDNumber}
	}
	return []KeypadKind{KeypadPinyin, KeypadLatin, KeypadNumeric}
}

func hintKey(kind string) string {
	switch kind {
	case "phone", "date", "id_number", "select":
		return "form.hint_" + kind
	}
	return ""
}

func (k *Kiosk) form(s flow.State) fyne.CanvasObject {
	// The first editable field without a value is where typing goes, so a
	// resident who placed a card can type the phone number without a tap.
	if k.activeField == "" || !hasEditable(s.Fields, k.activeField) {
		k.activeField = ""
		for _, f := range s.Fields {
			if !f.Locked && f.Field.Kind != "select" && f.Value == "" {
				k.activeField = f.Field.Name
				break
			}
		}
		if k.activeField == "" {
			for _, f := range s.Fields {
				if !f.Locked && f.Field.Kind != "select" {
					k.activeField = f.Field.Name
					break
				}
			}
		}
	}
	// After a failed "next", bring the first wrong field forward: its page
	// is shown and the keypad writes into it.
	if s.Error.Key == "err.form_incomplete" && !fieldHasError(s.Fields, k.activeField) {
		for _, f := range s.Fields {
			if !f.Error.IsZero() && hasEditable(s.Fields, f.Field.Name) {
				k.activeField = f.Field.Name
				k.showField = true
				break
			}
		}
	}
	var rows []fyne.CanvasObject
	var active *Field
	var activeKind string
	activeRow := -1
	for _, fs := range s.Fields {
		fs := fs
		name := fs.Field.Name
		label := widget.NewLabel(k.fieldLabel(fs.Field))
		var input fyne.CanvasObject
		if fs.Field.Kind == "select" && !fs.Locked {
			var opts []fyne.CanvasObject
			for _, o := range fs.Field.Options {
				v := o.Value
				st := StyleNormal
				if fs.Value == v {
					st = StyleChosen
				}
				opts = append(opts, NewStyledButton(k.tr.Pick(o.Label, o.LabelEN), st, func() {
					k.dispatch(flow.SetField{Name: name, Value: v})
				}))
			}
			input = container.NewGridWithColumns(min(len(opts), 3), opts...)
		} else {
			f := NewField(k.placeholder(fs.Field))
			f.Name = name
			f.Value = displayValue(fs)
			f.ReadOnly = fs.Locked
			f.MaxLen = fs.Field.MaxLen
			f.Invalid = !fs.Error.IsZero()
			f.Active = name == k.activeField
			f.OnChanged = func(v string) { k.dispatch(flow.SetField{Name: name, Value: v}) }
			f.OnTapped = func() {
				k.activeField = name
				k.touch()
				k.Refresh()
			}
			if f.Active {
				active, activeKind = f, fs.Field.Kind
				activeRow = len(rows)
			}
			input = f
		}
		objs := []fyne.CanvasObject{label, input}
		if fs.Locked {
			objs = append(objs, widget.NewLabel(k.tr.T("form.from_card")))
		}
		if !fs.Error.IsZero() {
			e := widget.NewLabel(k.msg(fs.Error))
			e.Importance = widget.DangerImportance
			e.Wrapping = fyne.TextWrapWord
			objs = append(objs, e)
		}
		rows = append(rows, container.NewVBox(objs...))
	}
	list := k.paged("fields", rows, 4, 1)
	if k.showField && activeRow >= 0 {
		k.showField = false
		list.ShowItem(rows[activeRow])
	}
	if active == nil {
		return list
	}
	modes := keypadFor(activeKind)
	if kind, ok := k.keypadKind[k.activeField]; ok && len(modes) > 1 {
		modes = append([]KeypadKind{kind}, without(modes, kind)...)
	}
	kp := k.newKeypad("field/"+k.activeField, active, modes...)
	field := k.activeField
	kp.OnKey = func() {
		k.keypadKind[field] = kp.Kind()
		k.touch()
	}
	return container.NewBorder(nil, nil, nil, kp, list)
}

func without(ms []KeypadKind, m KeypadKind) []KeypadKind {
	var out []KeypadKind
	for _, x := range ms {
		if x != m {
			out = append(out, x)
		}
	}
	return out
}

func fieldHasError(fields []flow.FieldState, name string) bool {
	for _, f := range fields {
		if f.Field.Name == name {
			return !f.Error.IsZero()
		}
	}
	return false
}

func hasEditable(fields []flow.FieldState, name string) bool {
	for _, f := range fields {
		if f.Field.Name == name {
			return !f.Locked && f.Field.Kind != "select"
		}
	}
	return false
}

// displayValue masks a card-filled ID number: the resident does not need to
// see it and the person behind them should not.
func displayValue(fs flow.FieldState) string {
	if fs.Locked && fs.Field.Kind == "id_number" {
		return pii.MaskID(fs.Value)
	}
	return fs.Value
}

func (k *Kiosk) placeholder(f catalog.Field) string {
	if f.Hint != "" {
		return k.tr.Pick(f.Hint, f.HintEN)
	}
	if key := hintKey(f.Kind); key != "" {
		return k.tr.T(key)
	}
	return ""
}

func (k *Kiosk) materials(s flow.State) fyne.CanvasObject {
	var cards []fyne.CanvasObject
	for _, ms := range s.Materials {
		cards = append(cards, k.materialCard(s, ms))
	}
	per, cols := 4, 2
	if s.ElderMode {
		cols = 1
	}
	top := para(k.tr.T("materials.place_page"))
	return container.NewBorder(top, nil, nil, nil, k.paged("materials", cards, per, cols))
}

func (k *Kiosk) materialCard(s flow.State, ms flow.MaterialState) fyne.CanvasObject {
	id := ms.Material.ID
	req := "materials.optional"
	if ms.Material.IsRequired() {
		req = "materials.required"
	}
	title := subheading(k.tr.Pick(ms.Material.Name, ms.Material.NameEN))
	var status string
	switch ms.How {
	case flow.ProvidedShared:
		status = k.tr.T("materials.shared")
	case flow.ProvidedECert:
		status = k.tr.T("materials.ecert")
	case flow.ProvidedPromise:
		status = k.tr.T("materials.promise")
	default:
		status = k.tr.T("materials.pages", len(ms.Pages))
	}
	if ms.Scanning {
		status = k.tr.T("materials.scanning")
	}
	done := "materials.todo"
	if ms.Satisfied() {
		done = "materials.done"
	}
	info := widget.NewLabel(k.tr.T(req) + " · " + k.tr.T(done) + " · " + status)
	info.Wrapping = fyne.TextWrapWord
	objs := []fyne.CanvasObject{title, info}
	if ms.Scanning {
		// Until the sheet has gone through it stays at 0; a page takes
		// seconds to arrive over a serial line.
		k.scanBar = widget.NewProgressBar()
		k.scanBar.SetValue(k.scanProgress)
		objs = append(objs, k.scanBar)
	}
	if ms.How == flow.ProvidedScan && len(ms.Pages) > 0 && k.opts.Preview != nil {
		var thumbs []fyne.CanvasObject
		for _, p := range ms.Pages {
			if img := k.opts.Preview(p.Ref); img != nil {
				ci := canvas.NewImageFromImage(img)
				ci.FillMode = canvas.ImageFillContain
				ci.SetMinSize(fyne.NewSize(currentTarget(), currentTarget()*1.4))
				thumbs = append(thumbs, ci)
			}
		}
		if len(thumbs) > 0 {
			objs = append(objs, container.NewHBox(thumbs...))
		}
	}
	if !ms.Error.IsZero() {
		e := widget.NewLabel(k.msg(ms.Error))
		e.Importance = widget.DangerImportance
		e.Wrapping = fyne.TextWrapWord
		objs = append(objs, e)
	}
	var btns []fyne.CanvasObject
	busy := ms.Scanning || s.Busy
	if ms.How == flow.ProvidedScan {
		key := "btn.scan"
		if len(ms.Pages) > 0 {
			key = "btn.add_page"
		}
		b := NewStyledButton(k.tr.T(key), StylePrimary, func() { k.dispatch(flow.Scan{MaterialID: id}) })
		b.Disabled = busy
		btns = append(btns, b)
		if n := len(ms.Pages); n > 0 {
			last := n - 1
			rt := NewButton(k.tr.T("btn.retake"), func() { k.dispatch(flow.Scan{MaterialID: id, Retake: true, Page: last}) })
			rt.Disabled = busy
			rm := NewButton(k.tr.T("btn.remove_page"), func() { k.dispatch(flow.RemovePage{MaterialID: id, Page: last}) })
			rm.Disabled = busy
			btns = append(btns, rt, rm)
		}
	}
	if ms.How != flow.ProvidedShared {
		if ms.Material.ECertAllowed() && ms.How != flow.ProvidedECert {
			btns = append(btns, NewButton(k.tr.T("btn.use_ecert"), func() { k.dispatch(flow.UseECert{MaterialID: id}) }))
		}
		if ms.Material.PromiseAllowed && ms.How != flow.ProvidedPromise {
			btns = append(btns, NewButton(k.tr.T("btn.use_promise"), func() { k.dispatch(flow.UsePromise{MaterialID: id}) }))
		}
		if ms.How == flow.ProvidedECert || ms.How == flow.ProvidedPromise {
			btns = append(btns, NewButton(k.tr.T("btn.use_scan"), func() { k.dispatch(flow.UseScan{MaterialID: id}) }))
		}
	}
	if len(btns) > 0 {
		objs = append(objs, container.NewGridWithColumns(min(len(btns), 2), btns...))
	}
	return card(objs...)
}

func (k *Kiosk) review(s flow.State) fyne.CanvasObject {
	var lines []fyne.CanvasObject
	add := func(label, value string) {
		l := widget.NewLabel(label + k.colon() + value)
		l.Wrapping = fyne.TextWrapWord
		lines = append(lines, l)
	}
	add(k.tr.T("review.item"), k.itemName(s.Item))
	if s.Applicant != nil {
		add(k.tr.T("review.applicant"), s.Applicant.MaskedName)
		add(k.tr.T("review.id_number"), s.Applicant.MaskedID)
	}
	for _, f := range s.Fields {
		if f.Field.Prefill == "name" || f.Field.Prefill == "id_number" {
			continue // shown masked above
		}
		v := f.Value
		for _, o := range f.Field.Options {
			if o.Value == v {
				v = k.tr.Pick(o.Label, o.LabelEN)
			}
		}
		add(k.tr.Pick(f.Field.Label, f.Field.LabelEN), v)
	}
	for _, m := range s.Materials {
		if !m.Satisfied() {
			continue
		}
		t := k.tr.T(flow.ProvisionKey(m.How))
		if m.How == flow.ProvidedScan {
			t += " " + k.tr.T("materials.pages", len(m.Pages))
		}
		add(k.tr.Pick(m.Material.Name, m.Material.NameEN), t)
	}
	consentStyle := StyleNormal
	mark := "☐ "
	if s.Consent {
		consentStyle, mark = StyleChosen, "☑ "
	}
	consent := NewStyledButton(mark+k.tr.T("review.consent"), consentStyle, func() {
		k.dispatch(flow.SetConsent{Agreed: !k.state.Consent})
	})
	notice := card(subheading(k.tr.T("review.notice_title")), para(k.tr.T("review.notice_body")))
	if s.ElderMode {
		// One column in elder mode: the notice is the last page.
		return container.NewBorder(nil, consent, nil, nil,
			k.paged("review", append(lines, notice), 12, 1))
	}
	return container.NewBorder(nil, consent, nil, nil,
		container.NewGridWithColumns(2, k.paged("review", lines, 12, 1), notice))
}

// colon separates a label from its value in the current language.
func (k *Kiosk) colon() string {
	if k.tr.Lang() == i18n.EN {
		return ": "
	}
	return "："
}

func (k *Kiosk) submitting() fyne.CanvasObject {
	return container.NewCenter(container.NewVBox(heading(k.tr.T("submitting.wait")), widget.NewProgressBarInfinite()))
}

func (k *Kiosk) receipt(s flow.State) fyne.CanvasObject {
	r := s.Receipt
	if r == nil {
		return widget.NewLabel("")
	}
	num := canvas.NewText(r.Number, theme.Color(theme.ColorNamePrimary))
	num.TextSize = theme.Size(theme.SizeNameHeadingText) * 1.4
	var status string
	switch {
	case s.PaperOut:
		status = k.tr.T("receipt.keep_number")
	case s.Printed:
		status = k.tr.T("receipt.printed")
	case s.Busy:
		status = k.tr.T("receipt.printing")
	default:
		status = k.tr.T("receipt.keep_number")
	}
	head := container.NewVBox(subheading(k.tr.T("receipt.number")), num, para(status))
	info := []fyne.CanvasObject{
		para(k.tr.T("review.item") + k.colon() + k.receiptItem(s)),
		widget.NewLabel(k.tr.T("receipt.applicant", r.MaskedName+" "+r.MaskedID)),
		widget.NewLabel(k.tr.T("receipt.accepted_at", r.AcceptedAt.Format("2006-01-02 15:04"))),
	}
	switch {
	case r.Instant:
		info = append(info, widget.NewLabel(k.tr.T("receipt.instant")))
	case !r.PromisedDate.IsZero():
		info = append(info, widget.NewLabel(k.tr.T("receipt.promised", r.PromisedDate.Format("2006-01-02"))))
	default:
		info = append(info, widget.NewLabel(k.tr.T("receipt.promised_unknown")))
	}
	if place := k.receiptPlace(s); place != "" {
		info = append(info, para(k.tr.T("receipt.place", place)))
	}
	// The details page by height, so elder mode's large type never pushes
	// them under the buttons; the number and QR always stay in view.
	left := container.NewBorder(head, nil, nil, nil, k.paged("details", info, 8, 1))
	qrSide := float32(5 * currentTarget())
	var right fyne.CanvasObject = layout.NewSpacer()
	if q, err := qrcode.New(r.QR, qrcode.Medium); err == nil {
		img := canvas.NewImageFromImage(q.Image(512))
		img.FillMode = canvas.ImageFillContain
		img.ScaleMode = canvas.ImageScalePixels
		img.SetMinSize(fyne.NewSize(qrSide, qrSide))
		right = container.NewVBox(img, container.NewCenter(widget.NewLabel(k.tr.T("receipt.scan_qr"))))
	}
	return container.NewBorder(nil, nil, nil, right, left)
}

// receiptItem is the item's name in the current language where the catalog
// has it.
func (k *Kiosk) receiptItem(s flow.State) string {
	if s.Item != nil {
		return k.itemName(s.Item)
	}
	return s.Receipt.ItemName
}

// receiptPlace is where to collect the result, in the current language
// where the catalog has it (the flow's Receipt holds the Chinese, which the
// printed receipt uses).
func (k *Kiosk) receiptPlace(s flow.State) string {
	if s.Item != nil && len(s.Item.Places) > 0 {
		return k.place(s.Item.Places[0])
	}
	return s.Receipt.Place
}

func (k *Kiosk) rating(s flow.State) fyne.CanvasObject {
	var levels []fyne.CanvasObject
	for _, l := range flow.RatingLevels() {
		lv := l.Level
		st := StyleNormal
		if s.RatingLevel == lv {
			st = StyleChosen
		}
		b := NewStyledButton(k.tr.T(l.Key), st, func() { k.dispatch(flow.Rate{Level: lv}) })
		b.Big = true
		levels = append(levels, b)
	}
	left := container.NewVBox(append([]fyne.CanvasObject{subheading(k.tr.T("rating.title"))}, levels...)...)
	if !s.RatingNeedsReason {
		return container.NewBorder(nil, nil, nil, nil, left)
	}
	var reasons []fyne.CanvasObject
	for _, key := range flow.RatingReasons() {
		text := k.tr.T(key)
		st := StyleNormal
		if s.RatingReason == text {
			st = StyleChosen
		}
		reasons = append(reasons, NewStyledButton(text, st, func() { k.dispatch(flow.SetRatingReason{Reason: text}) }))
	}
	right := container.NewVBox(append([]fyne.CanvasObject{subheading(k.tr.T("rating.reason_title"))}, reasons...)...)
	return container.NewGridWithColumns(2, left, right)
}

func (k *Kiosk) lookup(s flow.State) fyne.CanvasObject {
	field := NewField(k.tr.T("receipt.number"))
	field.Value = k.receiptInput
	field.Active = true
	field.MaxLen = 40
	field.Invalid = s.Error.Key == "err.receipt_no_invalid"
	field.OnChanged = func(v string) { k.receiptInput = v }
	field.OnTapped = func() {
		k.lookupTyping = true
		k.touch()
		k.Refresh()
	}
	lookUp := func() {
		k.lookupTyping = false
		k.dispatch(flow.EnterReceiptNo{Number: strings.ToUpper(k.receiptInput)})
	}
	goBtn := NewStyledButton(k.tr.T("btn.lookup_go"), StylePrimary, lookUp)
	goBtn.Disabled = s.Busy
	if !s.Busy {
		field.OnSubmit = lookUp
	}
	top := container.NewVBox(para(k.tr.T("lookup.hint")), container.NewBorder(nil, nil, nil, goBtn, field))
	var results []fyne.CanvasObject
	l := s.Lookup
	if l.Pending {
		results = append(results, widget.NewLabel(k.tr.T("lookup.searching")))
	}
	if l.Done {
		if l.Offline {
			results = append(results, para(k.tr.T("lookup.offline")))
		}
		if l.MaskedID != "" {
			results = append(results, widget.NewLabel(k.tr.T("lookup.by_id", l.MaskedID)))
		}
		var rows []fyne.CanvasObject
		for _, r := range l.Results {
			no := widget.NewLabelWithStyle(k.tr.T("lookup.by_receipt", r.ReceiptNo), fyne.TextAlignLeading, fyne.TextStyle{})
			// Wrapped: beside the keypad the column is narrow in elder mode.
			no.Wrapping = fyne.TextWrapBreak
			lines := []fyne.CanvasObject{
				no,
				widget.NewLabel(k.tr.Pick(r.ItemName, r.ItemNameEN)),
				widget.NewLabel(k.tr.T(flow.StatusKey(r.Status))),
			}
			if r.Note != "" {
				lines = append(lines, para(r.Note))
			}
			if !r.UpdatedAt.IsZero() {
				u := widget.NewLabel(k.tr.T("lookup.updated", r.UpdatedAt.Format("2006-01-02 15:04")))
				u.Wrapping = fyne.TextWrapBreak
				lines = append(lines, u)
			}
			rows = append(rows, card(lines...))
		}
		per := 2
		if s.ElderMode {
			per = 1
		}
		if len(rows) > 0 {
			results = append(results, k.paged("results", rows, per, 1))
		}
	}
	left := container.NewBorder(top, nil, nil, nil, container.NewVBox(results...))
	if (l.Done || l.Pending) && !k.lookupTyping {
		// The answer gets the whole width; tapping the box brings the
		// keypad back for another number.
		field.Active = false
		return left
	}
	kp := k.newKeypad("receipt_no", field, KeypadLatin)
	return container.NewBorder(nil, nil, nil, kp, left)
}
