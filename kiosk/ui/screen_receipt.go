package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	qrcode "github.com/skip2/go-qrcode"

	"onedoor/kiosk/flow"
)

// submittingScreen waits for the outbox.
type submittingScreen struct {
	k *Kiosk
}

func (sc *submittingScreen) draw(s flow.State) fyne.CanvasObject {
	k := sc.k
	return container.NewCenter(container.NewVBox(heading(k.tr.T("submitting.wait")), widget.NewProgressBarInfinite()))
}

// receiptScreen shows the receipt number, details and QR code.
type receiptScreen struct {
	k *Kiosk
}

func (sc *receiptScreen) draw(s flow.State) fyne.CanvasObject {
	k := sc.k
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
	head := container.NewVBox(subheading(k.tr.T("receipt.number")), num)
	if r.LookupCode != "" {
		// Written down when the paper is out: with the number it lets the
		// resident check progress at any kiosk.
		head.Add(widget.NewLabel(k.tr.T("receipt.lookup_code", r.LookupCode)))
	}
	if !s.PaperOut {
		// Paper out: the error bar above already says to write the
		// number down; saying it twice pushed elder mode off the screen.
		head.Add(para(status))
	}
	info := []fyne.CanvasObject{
		para(k.tr.T("review.item") + k.colon() + k.receiptItem(s)),
		widget.NewLabel(k.tr.T("receipt.applicant", r.MaskedName+" "+r.MaskedID)),
		widget.NewLabel(k.tr.T("receipt.accepted_at", k.at(r.AcceptedAt, "2006-01-02 15:04"))),
	}
	if r.AgentMaskedName != "" {
		info = append(info, widget.NewLabel(k.tr.T("receipt.agent", r.AgentMaskedName+" "+r.AgentMaskedID)))
	}
	for _, m := range r.Materials {
		if m.Promise != "" {
			info = append(info, paras(k.tr.T("receipt.promise", k.tr.Pick(m.Name, m.NameEN), k.tr.Pick(m.Promise, m.PromiseEN)))...)
		}
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
	// It asks for one row's room: with the number, the lookup code and
	// the paper-out bar, elder mode's three rows pushed the screen past
	// the window (English at every size, Chinese at 1366x768).
	details := k.paged("details", info, 8, 1)
	details.Rows = 1
	left := container.NewBorder(head, nil, nil, nil, details)
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
