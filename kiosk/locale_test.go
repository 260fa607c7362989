package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestNoFyneLocaleErrorUnderCLocale: a technician's command in a C locale
// (LANG=C.UTF-8 is Debian's default for services and containers) prints no
// Fyne locale error. Fyne reads the locale in an init, so this runs the test
// binary itself, which links Fyne as onedoor does, in that environment.
func TestNoFyneLocaleErrorUnderCLocale(t *testing.T) {
	for _, lang := range []string{"C.UTF-8", "C", "POSIX", "zh_CN.UTF-8"} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "LANG="+lang, "LC_ALL=", "LC_MESSAGES=", "LANGUAGE=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("LANG=%s: %v\n%s", lang, err, out)
		}
		if strings.Contains(string(out), "Fyne error") {
			t.Errorf("LANG=%s prints a Fyne error:\n%s", lang, out)
		}
	}
}
