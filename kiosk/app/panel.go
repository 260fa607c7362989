package app

import (
	"bytes"
	"context"
	"image"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"onedoor/drivers/sim"
	"onedoor/kiosk/ui"
)

// DemoPanel is the strip beside the kiosk screen in demo mode: it stands in
// for the resident's hands (place or remove a fictional ID card, put a page
// on the scanner) and for the world (paper runs out, the network drops), and
// shows the last receipt the simulated printer produced. Labels are
// bilingual and fixed: the panel is for the person giving the demo, not for
// residents, so it does not follow the kiosk's language switch.
type DemoPanel struct {
	d       *Demo
	status  *widget.Label
	receipt *canvas.Image
	text    *widget.Label
	online  bool
	obj     fyne.CanvasObject
	printed int
}

// NewDemoPanel builds the panel for d.
func NewDemoPanel(d *Demo) *DemoPanel {
	p := &DemoPanel{d: d, status: widget.NewLabel(""), online: true}
	p.status.Wrapping = fyne.TextWrapWord
	p.receipt = canvas.NewImageFromImage(nil)
	p.receipt.FillMode = canvas.ImageFillContain
	p.receipt.SetMinSize(fyne.NewSize(300, 420))
	p.text = widget.NewLabel("")
	p.text.Wrapping = fyne.TextWrapWord

	var cards []fyne.CanvasObject
	for _, c := range d.Card.Cards() {
		key := c.Key
		label := c.Name + " (" + c.Key + ")"
		cards = append(cards, ui.NewButton(label, func() {
			d.Card.Remove()
			if err := d.Card.Place(key); err != nil {
				p.say("放卡失败 place failed: " + err.Error())
				return
			}
			p.say("已放卡 card placed: " + key)
		}))
	}
	remove := ui.NewButton("取走身份证 Remove card", func() {
		d.Card.Remove()
		p.say("已取卡 card removed")
	})
	feed := func(page string) fyne.CanvasObject {
		return ui.NewButton("放入 Feed: "+page, func() {
			if err := d.Scanner.Feed(page, 1); err != nil {
				p.say(err.Error())
				return
			}
			p.say("扫描仪已放入一页 page in feeder: " + page)
		})
	}
	paper := ui.NewButton("打印机缺纸 Paper out", func() {
		d.PaperOut()
		p.say("打印机将缺纸 paper will run out")
	})
	refill := ui.NewButton("装纸 Refill paper", func() {
		d.Refill()
		p.say("已装纸 paper refilled")
	})
	var net *ui.Button
	net = ui.NewButton("断网 Cut network", func() {
		p.online = !p.online
		d.SetNetwork(p.online)
		if p.online {
			net.SetText("断网 Cut network")
			p.say("网络已恢复 network restored")
		} else {
			net.SetText("恢复网络 Restore network")
			p.say("网络已断开 network cut")
		}
	})
	office := widget.NewLabel("后台 Back office: " + d.BackOfficeURL() + "\n" + DemoStaffUser + " / " + DemoStaffPassword)
	office.Wrapping = fyne.TextWrapWord
	box := container.NewVBox(
		widget.NewLabelWithStyle("演示面板 Demo panel", fyne.TextAlignCenter, fyne.TextStyle{}),
		widget.NewLabel("身份证 ID card"),
		container.NewGridWithColumns(2, cards...),
		remove,
		widget.NewLabel("扫描仪 Scanner"),
		container.NewGridWithColumns(2, feed("form"), feed("certificate"), feed("blank"), feed("blurred")),
		widget.NewLabel("打印机 Printer"),
		container.NewGridWithColumns(2, paper, refill),
		widget.NewLabel("网络 Network"),
		net,
		office,
		p.status,
		widget.NewLabel("最近回执 Last receipt"),
		p.receipt,
		p.text,
	)
	p.obj = container.NewVScroll(box)
	return p
}

// Object is the panel's canvas object.
func (p *DemoPanel) Object() fyne.CanvasObject { return p.obj }

func (p *DemoPanel) say(s string) { p.status.SetText(s) }

// Watch polls the simulated printer and shows each new receipt; post runs
// the update on the UI goroutine. It returns when ctx ends.
func (p *DemoPanel) Watch(ctx context.Context, post func(func())) {
	t := time.NewTicker(300 * time.Millisecond)
	defer t.Stop()
	seen := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pages := p.d.Printer.Pages()
		if len(pages) == seen {
			continue
		}
		seen = len(pages)
		last := pages[len(pages)-1]
		img := receiptImage(last)
		post(func() {
			p.printed = seen
			p.receipt.Image = img
			p.receipt.Refresh()
			note := ""
			if last.Torn {
				note = "（缺纸，未打完 paper ran out）\n"
			}
			p.text.SetText(note + last.Text)
		})
	}
}

func receiptImage(pg sim.PrintedPage) image.Image {
	if pg.Image != nil {
		return pg.Image
	}
	b, err := pg.PNG()
	if err != nil {
		return nil
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil
	}
	return img
}
