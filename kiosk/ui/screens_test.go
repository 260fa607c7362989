package ui_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"

	"onedoor/kiosk/flow"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/ui"
	"onedoor/kiosk/ui/uitest"
)

func newHarness(t *testing.T, lang string, elder bool) *uitest.Harness {
	t.Helper()
	h, err := uitest.NewHarness()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	if err := h.SetLang(lang); err != nil {
		t.Fatal(err)
	}
	if elder {
		h.Dispatch(flow.SetElderMode{On: true})
	}
	return h
}

// TestElderModeThresholds is done-means (f): on every screen of a session in
// elder mode, every text drawn is at least 18 dp and larger than normal
// mode's body text, every button and input is at least 60 dp each way,
// nothing is a pop-up, and the palette's text pairs reach 4.5:1.
func TestElderModeThresholds(t *testing.T) {
	screens, err := elderProblems(t, true)
	if err != nil {
		t.Fatal(err)
	}
	if screens < 15 {
		t.Fatalf("toured only %d screens", screens)
	}
	// Control: normal mode's smaller type and targets must fail the same
	// check, or the check measures nothing.
	if _, err := elderProblems(t, false); err == nil {
		t.Fatal("normal mode passes the elder-mode check; the check is blind")
	}
}

func elderProblems(t *testing.T, elder bool) (int, error) {
	h := newHarness(t, i18n.ZhCN, elder)
	normalBody := ui.NewTheme(false).Size(theme.SizeNameText)
	screens := 0
	err := uitest.Tour(h, func(name string) error {
		screens++
		var problems []string
		uitest.Walk(h.Win.Content(), func(o fyne.CanvasObject) bool {
			switch x := o.(type) {
			case *canvas.Text:
				if strings.TrimSpace(x.Text) != "" && (x.TextSize < ui.ElderMinText || x.TextSize <= normalBody) {
					problems = append(problems, fmt.Sprintf("text %q at %.0f dp", x.Text, x.TextSize))
				}
			case *ui.Button:
				if s := x.Size(); s.Width < ui.ElderMinTarget || s.Height < ui.ElderMinTarget {
					problems = append(problems, fmt.Sprintf("button %q is %.0f×%.0f", x.Text, s.Width, s.Height))
				}
			case *ui.Field:
				if s := x.Size(); s.Height < ui.ElderMinTarget {
					problems = append(problems, fmt.Sprintf("field %q is %.0f high", x.Name, s.Height))
				}
			}
			return true
		})
		if n := len(h.Win.Canvas().Overlays().List()); n > 0 {
			problems = append(problems, fmt.Sprintf("%d pop-up overlays", n))
		}
		if len(problems) > 0 {
			return fmt.Errorf("%d problems:\n  %s", len(problems), strings.Join(problems, "\n  "))
		}
		return nil
	})
	return screens, err
}

// TestContrast checks the text/background pairs of both palettes against
// WCAG AA (4.5:1), which the elder-mode rules require.
func TestContrast(t *testing.T) {
	pairs := []struct{ fg, bg fyne.ThemeColorName }{
		{theme.ColorNameForeground, theme.ColorNameBackground},
		{theme.ColorNameForeground, theme.ColorNameButton},
		{theme.ColorNameForeground, theme.ColorNameHeaderBackground},
		{theme.ColorNameForeground, theme.ColorNameInputBackground},
		{theme.ColorNameForeground, theme.ColorNameWarning},
		{theme.ColorNameForegroundOnPrimary, theme.ColorNamePrimary},
		{theme.ColorNameForegroundOnError, theme.ColorNameError},
		{theme.ColorNameForegroundOnSuccess, theme.ColorNameSuccess},
		{theme.ColorNameForegroundOnWarning, theme.ColorNameWarning},
		{theme.ColorNamePrimary, theme.ColorNameBackground},
		{theme.ColorNameError, theme.ColorNameBackground},
		{theme.ColorNamePlaceHolder, theme.ColorNameInputBackground},
		{theme.ColorNameDisabled, theme.ColorNameDisabledButton},
	}
	for _, elder := range []bool{false, true} {
		th := ui.NewTheme(elder)
		for _, p := range pairs {
			c := ui.Contrast(th.Color(p.fg, theme.VariantLight), th.Color(p.bg, theme.VariantLight))
			if c < ui.MinContrast {
				t.Errorf("elder=%v: %s on %s has contrast %.2f, want ≥ %.1f", elder, p.fg, p.bg, c, ui.MinContrast)
			}
		}
	}
	if c := ui.Contrast(theme.DefaultTheme().Color(theme.ColorNameForeground, theme.VariantLight), theme.DefaultTheme().Color(theme.ColorNameForeground, theme.VariantLight)); c != 1 {
		t.Errorf("contrast of a colour with itself = %.2f, want 1", c)
	}
}

var missingKey = regexp.MustCompile(`\[[a-z_]+(\.[a-z0-9_]+)+\]`)

// TestEveryMessageKeyRenders is done-means (g): every screen of a session,
// in both languages and in elder mode, draws no "[key]" placeholder (what
// the translator shows for a key missing in both catalogs), and every key
// of one language exists in the other.
func TestEveryMessageKeyRenders(t *testing.T) {
	for _, tc := range []struct {
		lang  string
		elder bool
	}{{i18n.ZhCN, false}, {i18n.EN, false}, {i18n.ZhCN, true}, {i18n.EN, true}} {
		t.Run(fmt.Sprintf("%s/elder=%v", tc.lang, tc.elder), func(t *testing.T) {
			h := newHarness(t, tc.lang, tc.elder)
			err := uitest.Tour(h, func(name string) error {
				text := uitest.JoinedAll(h.Win.Content())
				if m := missingKey.FindAllString(text, -1); len(m) > 0 {
					return fmt.Errorf("missing messages %v", m)
				}
				for _, k := range h.Tr.Keys(tc.lang) {
					for _, other := range i18n.Languages() {
						if !h.Tr.Has(other, k) {
							return fmt.Errorf("key %q has no %s message", k, other)
						}
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestEnglishScreensHaveNoChineseChrome checks that switching to English
// translates the kiosk's own words: the only Han characters left are the
// resident's own data and notes from the back office (catalog texts are
// TestEnglishModeShowsCatalogEnglish's).
func TestEnglishScreensHaveNoChineseChrome(t *testing.T) {
	h := newHarness(t, i18n.EN, false)
	zh := newHarness(t, i18n.ZhCN, false)
	chrome := map[string]bool{}
	for _, k := range zh.Tr.Keys(i18n.ZhCN) {
		if !strings.Contains(k, "%") {
			chrome[zh.Tr.In(i18n.ZhCN, k)] = true
		}
	}
	err := uitest.Tour(h, func(name string) error {
		for _, s := range uitest.Texts(h.Win.Content()) {
			if chrome[s] && s != h.Tr.In(i18n.EN, "lang.switch_to") && strings.TrimSpace(s) != "" && hasHan(s) {
				// lang.switch_to in English is "中文", on purpose.
				if s == "中文" {
					continue
				}
				return fmt.Errorf("Chinese UI text %q on the English screen", s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x4E00 && r <= 0x9FFF {
			return true
		}
	}
	return false
}

func TestOfflineBadgeAndLanguageSwitch(t *testing.T) {
	h := newHarness(t, i18n.ZhCN, false)
	offline := h.Tr.In(i18n.ZhCN, "home.offline")
	h.Kiosk.SetOnline(false)
	if !strings.Contains(uitest.Joined(h.Win.Content()), offline) {
		t.Fatal("offline badge not shown")
	}
	h.Kiosk.SetOnline(true)
	if strings.Contains(uitest.Joined(h.Win.Content()), offline) {
		t.Fatal("offline badge still shown when online")
	}
	// The switch is on every screen and redraws in place.
	if err := h.R.Tap("English"); err != nil {
		t.Fatal(err)
	}
	if err := h.R.Tap("Apply for a service"); err != nil {
		t.Fatalf("after switching to English: %v", err)
	}
	if h.Kiosk.State().Step != flow.StepCatalog {
		t.Fatalf("at %s", h.Kiosk.State().Step)
	}
	if err := h.R.Tap("中文"); err != nil {
		t.Fatal(err)
	}
	if uitest.FindButton(h.Win.Content(), "全部事项") == nil {
		t.Fatalf("catalog not redrawn in Chinese:\n%s", uitest.Joined(h.Win.Content()))
	}
}

// TestNothingClipped tours every screen in Chinese, English and elder mode
// (and English elder mode), at the supported window sizes (the smaller
// ones in every mode), and checks that every button is at least as big
// as its label needs and that no text or button reaches outside the window
// or below the top of the bottom navigation row.
func TestNothingClipped(t *testing.T) {
	for _, tc := range []struct {
		lang  string
		elder bool
		size  fyne.Size
	}{{i18n.ZhCN, false, uitest.Screen()}, {i18n.EN, false, uitest.Screen()}, {i18n.ZhCN, true, uitest.Screen()}, {i18n.EN, true, uitest.Screen()},
		{i18n.ZhCN, false, uitest.Sizes()[1]}, {i18n.EN, true, uitest.Sizes()[1]}, {i18n.ZhCN, true, uitest.Sizes()[1]},
		{i18n.ZhCN, false, uitest.Sizes()[2]}, {i18n.EN, true, uitest.Sizes()[2]}} {
		if raceBuild && tc.size != uitest.Screen() {
			continue // see tourSizes
		}
		t.Run(fmt.Sprintf("%s/elder=%v/%.0fx%.0f", tc.lang, tc.elder, tc.size.Width, tc.size.Height), func(t *testing.T) {
			h := newHarness(t, tc.lang, tc.elder)
			h.SetSize(tc.size)
			drv := fyne.CurrentApp().Driver()
			win := h.Win.Canvas().Size()
			err := uitest.Tour(h, func(name string) error {
				var problems []string
				uitest.Walk(h.Win.Content(), func(o fyne.CanvasObject) bool {
					var label string
					switch x := o.(type) {
					case *ui.Button:
						label = x.Text
						// Width is checked on its lines below: a long label
						// is drawn smaller rather than clipped.
						if m, s := x.MinSize(), x.Size(); m.Height > s.Height+0.5 {
							problems = append(problems, fmt.Sprintf("button %q needs %.0f high, has %.0f", x.Text, m.Height, s.Height))
						}
					case *canvas.Text:
						label = x.Text
						if strings.TrimSpace(x.Text) == "" {
							return true
						}
						if m := x.MinSize(); m.Width > x.Size().Width+0.5 && x.Alignment != fyne.TextAlignLeading {
							problems = append(problems, fmt.Sprintf("text %q needs %.0f wide, has %.0f", x.Text, m.Width, x.Size().Width))
						}
					default:
						return true
					}
					p := drv.AbsolutePositionForObject(o)
					s := o.Size()
					if p.X < -0.5 || p.Y < -0.5 || p.X+s.Width > win.Width+0.5 || p.Y+s.Height > win.Height+0.5 {
						problems = append(problems, fmt.Sprintf("%q at %.0f,%.0f size %.0f×%.0f outside the %.0f×%.0f window", label, p.X, p.Y, s.Width, s.Height, win.Width, win.Height))
					}
					return true
				})
				if len(problems) > 0 {
					return fmt.Errorf("%d problems:\n  %s", len(problems), strings.Join(problems, "\n  "))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestOneTextStyle keeps every text of the resident screens in the regular
// style. Fyne parses the theme font once per text style, and our font is the
// 4 MB CJK face (about 17 MiB and 30 ms per parse): one bold heading would
// add that to the kiosk's start. The face has no bold anyway, so a bold
// Chinese heading looked the same as a regular one; headings stand out by
// size and colour instead.
func TestOneTextStyle(t *testing.T) {
	h := newHarness(t, i18n.ZhCN, false)
	err := uitest.Tour(h, func(name string) error {
		var styled []string
		uitest.Walk(h.Win.Content(), func(o fyne.CanvasObject) bool {
			if x, ok := o.(*canvas.Text); ok && x.TextStyle != (fyne.TextStyle{}) {
				styled = append(styled, fmt.Sprintf("%q %+v", x.Text, x.TextStyle))
			}
			return true
		})
		if len(styled) > 0 {
			return fmt.Errorf("texts not in the regular style: %s", strings.Join(styled, ", "))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
