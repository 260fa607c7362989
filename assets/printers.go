package assets

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// printerFS holds one TOML file per printer profile; drivers/escpos parses
// them, so that adding a printer model is a data change, not a code change.
//
//go:embed printers/*.toml
var printerFS embed.FS

// DefaultPrinterProfile is the profile used when the configuration names none.
const DefaultPrinterProfile = "generic-80"

// PrinterProfile returns the TOML text of the named printer profile.
func PrinterProfile(name string) ([]byte, error) {
	if name == "" || strings.ContainsAny(name, "/\\.") {
		return nil, fmt.Errorf("printer profile %q: %w", name, fs.ErrNotExist)
	}
	b, err := printerFS.ReadFile(path.Join("printers", name+".toml"))
	if err != nil {
		return nil, fmt.Errorf("printer profile %q: %w", name, err)
	}
	return b, nil
}

// PrinterProfileNames lists the embedded printer profiles, sorted.
func PrinterProfileNames() []string {
	ents, _ := fs.ReadDir(printerFS, "printers") // embedded at build time: cannot fail
	var names []string
	for _, e := range ents {
		names = append(names, strings.TrimSuffix(e.Name(), ".toml"))
	}
	sort.Strings(names)
	return names
}
