package api

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestHelpRequestValidate(t *testing.T) {
	ok := HelpRequest{ID: "0b7c6a3e-1f2d-4c5b-8a9e-0123456789ab", KioskID: "DG-0001", Site: "东城街道便民服务站", Screen: "identify", At: time.Unix(1, 0)}
	tests := []struct {
		name  string
		edit  func(*HelpRequest)
		field string
	}{
		{"valid", func(*HelpRequest) {}, ""},
		{"no id", func(h *HelpRequest) { h.ID = "" }, "id"},
		{"uppercase id", func(h *HelpRequest) { h.ID = strings.ToUpper(h.ID) }, "id"},
		{"no screen", func(h *HelpRequest) { h.Screen = "" }, "screen"},
		{"screen with markup", func(h *HelpRequest) { h.Screen = "<b>x" }, "screen"},
		{"long screen", func(h *HelpRequest) { h.Screen = strings.Repeat("a", 33) }, "screen"},
		{"long site", func(h *HelpRequest) { h.Site = strings.Repeat("站", 50) }, "site"},
		{"no time", func(h *HelpRequest) { h.At = time.Time{} }, "at"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := ok
			tc.edit(&h)
			err := h.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("Validate = %v, want a %s error", err, tc.field)
			}
		})
	}
}
