package techui

import (
	"embed"
	"fmt"

	"onedoor/kiosk/i18n"
)

//go:embed messages/*.toml
var messageFS embed.FS

// Catalogs returns the resident catalogs of kiosk/i18n with the technician
// messages (keys under "tech.") merged in. The technician text lives here,
// apart from kiosk/i18n's files, so the two screens' owners do not edit
// one file; a key defined in both is a build defect.
func Catalogs() (map[string]map[string]string, error) {
	cats, err := i18n.LoadEmbedded()
	if err != nil {
		return nil, err
	}
	for _, lang := range i18n.Languages() {
		data, err := messageFS.ReadFile("messages/" + lang + ".toml")
		if err != nil {
			return nil, fmt.Errorf("techui: messages %s: %w", lang, err)
		}
		own, err := i18n.Parse(data)
		if err != nil {
			return nil, fmt.Errorf("techui: messages %s: %w", lang, err)
		}
		for k, v := range own {
			if _, dup := cats[lang][k]; dup {
				return nil, fmt.Errorf("techui: message %q defined in kiosk/i18n too", k)
			}
			cats[lang][k] = v
		}
	}
	return cats, nil
}

// NewTranslator returns a translator over Catalogs, in lang.
func NewTranslator(lang string) (*i18n.Translator, error) {
	cats, err := Catalogs()
	if err != nil {
		return nil, err
	}
	return i18n.NewWith(cats, lang)
}
