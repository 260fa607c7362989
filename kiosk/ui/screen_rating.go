package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"

	"onedoor/kiosk/flow"
)

// ratingScreen is 好差评.
type ratingScreen struct {
	k *Kiosk
}

func (sc *ratingScreen) draw(s flow.State) fyne.CanvasObject {
	k := sc.k
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
	// The reasons page by height: six of them under the idle banner ran
	// past the bottom of the window in elder mode.
	right := container.NewBorder(subheading(k.tr.T("rating.reason_title")), nil, nil, nil, k.paged("reasons", reasons, len(reasons), 1))
	return container.NewGridWithColumns(2, left, right)
}
