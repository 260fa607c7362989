package ui_test

import (
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"pgregory.net/rapid"

	"onedoor/kiosk/i18n"
	"onedoor/kiosk/ui"
	"onedoor/kiosk/ui/uitest"
)

// modes are the four combinations a resident can pick: language and elder
// mode.
var modes = []struct {
	lang  string
	elder bool
}{{i18n.ZhCN, false}, {i18n.EN, false}, {i18n.ZhCN, true}, {i18n.EN, true}}

// TestPagedListReachesLastItem is a property over list lengths: in every
// mode, at every supported window size, a paged list of any length (items
// of any text length, one or two columns) reaches its last item by its
// next-page button; every item is on exactly one page; each page's items
// lie inside the list above its buttons.
func TestPagedListReachesLastItem(t *testing.T) {
	a := test.NewApp()
	defer test.NewApp()
	tr := i18n.New()
	zh := []rune("居住证申领需要提供本人近期免冠照片和住所证明材料请按提示操作")
	en := strings.Fields("the resident places the card on the reader and types the phone number before scanning each page of the document")
	rapid.Check(t, func(rt *rapid.T) {
		mode := modes[rapid.IntRange(0, len(modes)-1).Draw(rt, "mode")]
		size := uitest.Sizes()[rapid.IntRange(0, 2).Draw(rt, "size")]
		n := rapid.IntRange(0, 60).Draw(rt, "items")
		cols := rapid.IntRange(1, 2).Draw(rt, "cols")
		perPage := rapid.IntRange(1, 12).Draw(rt, "perPage")
		if err := tr.SetLang(mode.lang); err != nil {
			rt.Fatal(err)
		}
		a.Settings().SetTheme(ui.NewTheme(mode.elder))
		items := make([]fyne.CanvasObject, n)
		for i := range items {
			words := rapid.IntRange(1, 40).Draw(rt, "words")
			var text string
			if mode.lang == i18n.EN {
				var ws []string
				for j := range words {
					ws = append(ws, en[(i+j)%len(en)])
				}
				text = fmt.Sprintf("%d. %s", i+1, strings.Join(ws, " "))
			} else {
				var rs []rune
				for j := range words * 2 {
					rs = append(rs, zh[(i+j)%len(zh)])
				}
				text = fmt.Sprintf("%d. %s", i+1, string(rs))
			}
			l := widget.NewLabel(text)
			l.Wrapping = fyne.TextWrapWord
			items[i] = l
		}
		list := ui.NewPagedList(tr, items, perPage, cols, 0)
		// The kiosk's chrome (header, progress, bottom row) takes about
		// a quarter of the height; the list gets the rest.
		chrome := widget.NewLabel("header")
		chrome.Resize(fyne.NewSize(10, size.Height/4))
		top := container.NewGridWrap(fyne.NewSize(10, size.Height/4), chrome)
		w := test.NewWindow(container.NewBorder(top, nil, nil, nil, list))
		defer w.Close()
		w.Resize(size)
		seen := make([]int, n)
		for page := 0; ; page++ {
			if page > n+1 {
				rt.Fatalf("still paging after %d pages of %d items", page, n)
			}
			navTop := list.Size().Height
			if list.Pages() > 1 {
				drv := fyne.CurrentApp().Driver()
				navTop = drv.AbsolutePositionForObject(list.NextButton()).Y - drv.AbsolutePositionForObject(list).Y
			}
			for _, it := range list.PageItems() {
				if !it.Visible() {
					rt.Fatalf("page %d: an item of the page is hidden", page)
				}
				if it.Position().Y+it.Size().Height > navTop+0.5 {
					rt.Fatalf("page %d: item %q ends at %.0f, below the list's area (%.0f)", page, it.(*widget.Label).Text, it.Position().Y+it.Size().Height, navTop)
				}
				for i := range items {
					if items[i] == it {
						seen[i]++
					}
				}
			}
			if list.Page() == list.Pages()-1 {
				break
			}
			if list.NextButton().Disabled {
				rt.Fatalf("next disabled on page %d of %d", list.Page()+1, list.Pages())
			}
			test.Tap(list.NextButton())
		}
		for i, c := range seen {
			if c != 1 {
				rt.Fatalf("item %d shown on %d pages, want 1 (pages %d)", i+1, c, list.Pages())
			}
		}
		if n > 0 {
			last := items[n-1]
			if !last.Visible() {
				rt.Fatal("last item not visible on the last page")
			}
		}
	})
}

// TestEveryScreenListReachesItsEnd: on every screen of a session, in every
// mode and at every supported window size, every paged list on screen
// reaches its last page by its next-page button, and the last page's items
// are drawn inside the window.
//
// On the same tour (one tour per mode and size keeps the race run short),
// the screen's minimum size fits the window: the test driver lays content
// out at the window's size whatever it needs, but a real window grows to
// its content's minimum size (the demo's catalog screen pushed a 1280x800
// window to 1389 wide), which puts the kiosk's right edge off a fixed-size
// screen.
func TestEveryScreenListReachesItsEnd(t *testing.T) {
	for _, size := range tourSizes() {
		for _, m := range modes {
			t.Run(fmt.Sprintf("%.0fx%.0f/%s/elder=%v", size.Width, size.Height, m.lang, m.elder), func(t *testing.T) {
				h := newHarness(t, m.lang, m.elder)
				h.SetSize(size)
				drv := fyne.CurrentApp().Driver()
				lists := 0
				var tooBig []string
				err := uitest.Tour(h, func(name string) error {
					if ms := h.Kiosk.Object().MinSize(); ms.Width > size.Width+0.5 || ms.Height > size.Height+0.5 {
						tooBig = append(tooBig, fmt.Sprintf("%s needs %.0fx%.0f", name, ms.Width, ms.Height))
					}
					for i := 0; i < len(uitest.PagedLists(h.Win.Content())); i++ {
						lists++
						for step := 0; ; step++ {
							// Paging redraws the screen: find the list again.
							ls := uitest.PagedLists(h.Win.Content())
							if i >= len(ls) {
								return fmt.Errorf("list %d gone after paging", i)
							}
							l := ls[i]
							if b := coveredBy(drv, h.Win.Content(), l); b != "" {
								return fmt.Errorf("list %d page %d of %d: %s", i, l.Page()+1, l.Pages(), b)
							}
							if l.Page() == l.Pages()-1 {
								for _, it := range l.PageItems() {
									p, s := drv.AbsolutePositionForObject(it), it.Size()
									if !it.Visible() || p.Y+s.Height > size.Height+0.5 || p.X+s.Width > size.Width+0.5 {
										return fmt.Errorf("list %d: last page item at %.0f,%.0f size %.0f×%.0f outside the window", i, p.X, p.Y, s.Width, s.Height)
									}
								}
								break
							}
							if step > 40 || l.NextButton().Disabled {
								return fmt.Errorf("list %d stuck on page %d of %d (size %v, %d items, step %d)", i, l.Page()+1, l.Pages(), l.Size(), l.Len(), step)
							}
							h.R.TapButton(l.NextButton())
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if len(tooBig) > 0 {
					t.Errorf("screens larger than the window:\n  %s", strings.Join(tooBig, "\n  "))
				}
				if lists < 10 {
					t.Errorf("only %d lists seen on the tour; the check proves little", lists)
				}
			})
		}
	}
}

// coveredBy names a button outside list l drawn over an item of l's page
// (the elder lookup's answer ran under the Back and Home buttons), or "".
func coveredBy(drv fyne.Driver, root fyne.CanvasObject, l *ui.PagedList) string {
	own := map[*ui.Button]bool{}
	for _, b := range uitest.Buttons(l) {
		own[b] = true
	}
	for _, it := range l.PageItems() {
		if !it.Visible() {
			continue
		}
		ip, is := drv.AbsolutePositionForObject(it), it.Size()
		for _, b := range uitest.Buttons(root) {
			if own[b] {
				continue
			}
			bp, bs := drv.AbsolutePositionForObject(b), b.Size()
			if ip.X < bp.X+bs.Width-0.5 && bp.X < ip.X+is.Width-0.5 && ip.Y < bp.Y+bs.Height-0.5 && bp.Y < ip.Y+is.Height-0.5 {
				return fmt.Sprintf("button %q at %.0f,%.0f covers an item at %.0f,%.0f size %.0f×%.0f", b.Text, bp.X, bp.Y, ip.X, ip.Y, is.Width, is.Height)
			}
		}
	}
	return ""
}
