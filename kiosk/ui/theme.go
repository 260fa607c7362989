// Package ui draws the resident kiosk with Fyne 2.7: the theme (one embedded
// CJK face, normal and elder scale, high contrast), the screens of a session
// drawn from kiosk/flow's State, and the touch widgets Fyne lacks on desktop
// Linux: numeric, Latin and pinyin keypads, paged lists, long press, the
// idle countdown banner, the offline badge and the step progress bar.
//
// The package never talks to devices, SQL or the network: it turns taps into
// flow events handed to a Dispatcher and redraws whatever State it is given.
package ui

import (
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"onedoor/assets"
)

// Sizes in Fyne device-independent units (dp). Elder mode follows the MIIT
// rules for 适老化: body text at least 18 dp and larger than normal mode,
// touch targets at least 60 dp.
const (
	normalText    = 20
	normalHeading = 30
	normalTarget  = 52
	elderText     = 28
	elderHeading  = 40
	elderTarget   = 64

	// ElderMinText and ElderMinTarget are the thresholds elder mode must meet;
	// tests measure the rendered widgets against them.
	ElderMinText   = 18
	ElderMinTarget = 60
	// MinContrast is the WCAG AA ratio for body text, required in elder mode
	// and kept in normal mode too.
	MinContrast = 4.5
)

// Theme is the kiosk's Fyne theme. It is a value: switching elder mode means
// installing a new Theme, so that Fyne refreshes every widget.
type Theme struct {
	elder bool
	// scale enlarges text, padding and touch targets on a window larger
	// than the 1280×800 the sizes are chosen for (ScaleFor); never below 1.
	scale float32
	font  fyne.Resource
}

// NewTheme returns the theme for normal or elder mode. The CJK face is shared
// by every text style because bold and italic faces of it do not exist and a
// fallback font would draw Han characters at a different height.
func NewTheme(elder bool) *Theme { return NewScaledTheme(elder, 1) }

// NewScaledTheme is NewTheme with every size multiplied by scale (at least
// 1): on a 1920×1080 screen the 1280×800 sizes would leave a resident small
// type in a sea of empty space.
func NewScaledTheme(elder bool, scale float32) *Theme {
	return &Theme{elder: elder, scale: max(scale, 1), font: fyne.NewStaticResource("DroidSansFallbackFull.ttf", assets.CJKFont)}
}

// ScaleFor is the theme scale for a window of w×h pixels: how much larger
// than 1280×800 it is in its tighter direction, never below 1 (1366×768 is
// no taller than 800, so it keeps the sizes; 1920×1080 gets 1.35).
func ScaleFor(w, h float32) float32 {
	return max(1, min(w/1280, h/800))
}

// Scale is the factor every size is multiplied by.
func (t *Theme) Scale() float32 { return max(t.scale, 1) }

// Elder reports whether this is the elder-mode theme.
func (t *Theme) Elder() bool { return t.elder }

// TargetSize is the minimum side of anything a resident taps.
func (t *Theme) TargetSize() float32 {
	if t.elder {
		return elderTarget * t.Scale()
	}
	return normalTarget * t.Scale()
}

// normalPalette is a calm light palette; the government-blue primary keeps
// white text on it above 4.5:1.
func normalPalette() palette {
	return palette{
		background: color.NRGBA{0xF4, 0xF6, 0xF9, 0xFF},
		foreground: color.NRGBA{0x1B, 0x1F, 0x24, 0xFF},
		button:     color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF},
		primary:    color.NRGBA{0x0B, 0x57, 0xD0, 0xFF},
		onPrimary:  color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF},
		disabled:   color.NRGBA{0x5F, 0x63, 0x68, 0xFF},
		border:     color.NRGBA{0x8A, 0x93, 0x9E, 0xFF},
		errorC:     color.NRGBA{0xB3, 0x26, 0x1E, 0xFF},
		warning:    color.NRGBA{0xFF, 0xE0, 0x82, 0xFF},
		success:    color.NRGBA{0x1E, 0x6B, 0x35, 0xFF},
		input:      color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF},
		header:     color.NRGBA{0xE3, 0xEA, 0xF5, 0xFF},
	}
}

// elderPalette is pure black on white with a darker primary, so every text
// pair is far above 4.5:1 even on a washed-out lobby screen.
func elderPalette() palette {
	return palette{
		background: color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF},
		foreground: color.NRGBA{0x00, 0x00, 0x00, 0xFF},
		button:     color.NRGBA{0xFF, 0xF4, 0xD6, 0xFF},
		primary:    color.NRGBA{0x00, 0x3C, 0x8F, 0xFF},
		onPrimary:  color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF},
		disabled:   color.NRGBA{0x40, 0x40, 0x40, 0xFF},
		border:     color.NRGBA{0x00, 0x00, 0x00, 0xFF},
		errorC:     color.NRGBA{0x9A, 0x00, 0x00, 0xFF},
		warning:    color.NRGBA{0xFF, 0xD5, 0x4F, 0xFF},
		success:    color.NRGBA{0x00, 0x55, 0x20, 0xFF},
		input:      color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF},
		header:     color.NRGBA{0xD6, 0xE4, 0xFF, 0xFF},
	}
}

type palette struct {
	background, foreground, button, primary, onPrimary, disabled, border,
	errorC, warning, success, input, header color.NRGBA
}

func (t *Theme) palette() palette {
	if t.elder {
		return elderPalette()
	}
	return normalPalette()
}

// Color implements fyne.Theme. The kiosk is always light: lobby screens are
// bright and a dark variant would only halve the testing.
func (t *Theme) Color(name fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	p := t.palette()
	switch name {
	case theme.ColorNameBackground, theme.ColorNameMenuBackground, theme.ColorNameOverlayBackground:
		return p.background
	case theme.ColorNameForeground, theme.ColorNameForegroundOnWarning:
		return p.foreground
	case theme.ColorNameButton:
		return p.button
	case theme.ColorNamePrimary, theme.ColorNameHyperlink, theme.ColorNameFocus:
		return p.primary
	case theme.ColorNameForegroundOnPrimary, theme.ColorNameForegroundOnError, theme.ColorNameForegroundOnSuccess:
		return p.onPrimary
	case theme.ColorNameDisabled, theme.ColorNamePlaceHolder:
		return p.disabled
	case theme.ColorNameDisabledButton:
		return p.header
	case theme.ColorNameInputBorder, theme.ColorNameSeparator:
		return p.border
	case theme.ColorNameInputBackground:
		return p.input
	case theme.ColorNameError:
		return p.errorC
	case theme.ColorNameWarning:
		return p.warning
	case theme.ColorNameSuccess:
		return p.success
	case theme.ColorNameHeaderBackground:
		return p.header
	case theme.ColorNameSelection:
		return color.NRGBA{p.primary.R, p.primary.G, p.primary.B, 0x40}
	case theme.ColorNameHover:
		return color.NRGBA{0, 0, 0, 0x10}
	case theme.ColorNamePressed:
		return color.NRGBA{0, 0, 0, 0x28}
	case theme.ColorNameShadow:
		return color.NRGBA{0, 0, 0, 0x30}
	case theme.ColorNameScrollBar:
		return color.NRGBA{0, 0, 0, 0x60}
	}
	return theme.DefaultTheme().Color(name, theme.VariantLight)
}

// Font implements fyne.Theme: every style uses the one embedded CJK face.
func (t *Theme) Font(fyne.TextStyle) fyne.Resource { return t.font }

// Icon implements fyne.Theme with Fyne's own icons.
func (t *Theme) Icon(name fyne.ThemeIconName) fyne.Resource {
	return theme.DefaultTheme().Icon(name)
}

// Size implements fyne.Theme.
func (t *Theme) Size(name fyne.ThemeSizeName) float32 {
	return t.size(name) * t.Scale()
}

func (t *Theme) size(name fyne.ThemeSizeName) float32 {
	text, heading := float32(normalText), float32(normalHeading)
	pad := float32(6)
	if t.elder {
		text, heading, pad = elderText, elderHeading, 8
	}
	switch name {
	case theme.SizeNameText:
		return text
	case theme.SizeNameHeadingText:
		return heading
	case theme.SizeNameSubHeadingText:
		return (text + heading) / 2
	case theme.SizeNameCaptionText:
		// Captions stay at body size in elder mode: no small print.
		if t.elder {
			return text
		}
		return text - 4
	case theme.SizeNamePadding:
		return pad
	case theme.SizeNameInnerPadding:
		return pad * 1.5
	case theme.SizeNameInlineIcon:
		return text + 4
	case theme.SizeNameInputBorder:
		return 2
	case theme.SizeNameInputRadius, theme.SizeNameSelectionRadius:
		return 6
	case theme.SizeNameScrollBar:
		return 24
	case theme.SizeNameScrollBarSmall:
		return 12
	case theme.SizeNameLineSpacing:
		return pad / 2
	}
	return theme.DefaultTheme().Size(name)
}

// Contrast returns the WCAG 2 contrast ratio of two opaque colours.
func Contrast(a, b color.Color) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	lin := func(v uint32) float64 {
		s := float64(v) / 0xFFFF
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}
