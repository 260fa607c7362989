package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"onedoor/kiosk/flow"
)

// materialsScreen lists the materials with scan, e-licence and promise
// choices.
type materialsScreen struct {
	k *Kiosk
}

func (sc *materialsScreen) draw(s flow.State) fyne.CanvasObject {
	k := sc.k
	var cards []fyne.CanvasObject
	for _, ms := range s.Materials {
		cards = append(cards, k.materialCard(s, ms))
	}
	per, cols := 4, 2
	if s.ElderMode {
		cols = 1
	}
	top := para(k.tr.T("materials.place_page"))
	list := k.paged("materials", cards, per, cols)
	// Until the resident pages by hand, the page shown is the first
	// material still to provide: in elder mode a page holds one, and a
	// first page saying "nothing to hand in" (the ID card, checked by
	// sharing) made residents tap Next past the ones to scan.
	if _, byHand := k.pages[s.Step.String()+"/materials"]; !byHand {
		for i, ms := range s.Materials {
			if !ms.Satisfied() {
				list.ShowItem(cards[i])
				break
			}
		}
	}
	return container.NewBorder(top, nil, nil, nil, list)
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
		if c := ms.Cert; c != nil {
			status = k.tr.T("materials.ecert_used", c.TypeName, c.Agency, c.NumberMasked)
		}
	case flow.ProvidedPromise:
		status = k.tr.T("materials.promise_read")
		if ms.PromiseAccepted {
			status = k.tr.T("materials.promise_accepted")
		}
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
	if ms.How == flow.ProvidedPromise {
		// The promise in full, accepted explicitly: it is stored with the
		// application and printed on the receipt.
		objs = append(objs, para(k.tr.Pick(ms.Material.PromiseText, ms.Material.PromiseTextEN)))
		if !ms.PromiseAccepted {
			b := NewStyledButton(k.tr.T("btn.accept_promise"), StylePrimary, func() { k.dispatch(flow.AcceptPromise{MaterialID: id}) })
			b.Disabled = s.Busy
			btns = append(btns, b)
		}
	}
	if ms.How != flow.ProvidedShared {
		if ms.Material.ECertAllowed() && ms.How != flow.ProvidedECert {
			// Only a certificate the platform returned for this resident in
			// this session is offered (issue 13); offline the kiosk says it
			// cannot check now, and scanning stays.
			if o := ecertOffer(s.ECerts, id); o != nil {
				objs = append(objs, para(k.tr.T("materials.ecert_offer", o.TypeName, o.Agency, o.IssuedOn, o.NumberMasked)))
				b := NewStyledButton(k.tr.T("btn.use_ecert"), StylePrimary, func() { k.dispatch(flow.UseECert{MaterialID: id}) })
				b.Disabled = busy
				btns = append([]fyne.CanvasObject{b}, btns...)
			} else {
				switch s.ECerts.Status {
				case flow.ECertPending:
					objs = append(objs, para(k.tr.T("materials.ecert_checking")))
				case flow.ECertOffline, flow.ECertRefused:
					objs = append(objs, para(k.tr.T("materials.ecert_offline")))
				}
			}
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

// ecertOffer is the e-certificate the platform returned for a material in
// this session, or nil.
func ecertOffer(l flow.ECertLookup, materialID string) *flow.ECertOffer {
	for i := range l.Offers {
		if l.Offers[i].MaterialID == materialID {
			return &l.Offers[i]
		}
	}
	return nil
}
