package layering

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// generated matches Go's marker for generated files.
var generated = regexp.MustCompile(`^// Code generated .* DO NOT EDIT\.$`)

// TestFlowAndScreensStayReadable: no hand-written file of the flow or the
// screens is over 500 lines (issue 16), so one step or one screen stays a
// file a newcomer can read at once. Generated tables and tests aside.
func TestFlowAndScreensStayReadable(t *testing.T) {
	const limit = 500
	for _, dir := range []string{"../../kiosk/flow", "../../kiosk/ui"} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			sc := bufio.NewScanner(f)
			n := 0
			for sc.Scan() {
				if n == 0 && generated.MatchString(sc.Text()) {
					return nil
				}
				n++
			}
			if n > limit {
				t.Errorf("%s: %d lines, over %d: split it by what its parts do", strings.TrimPrefix(path, "../../"), n, limit)
			}
			return sc.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
