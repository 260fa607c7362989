package layering

import (
	"go/build"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// goList runs `go list` with args at the module root and returns its
// output lines. GOFLAGS (the no_emoji tag) carries over from the test's
// environment.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(build.Default.GOROOT, "bin", "go")
	}
	cmd := exec.Command(gobin, append([]string{"list"}, args...)...)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("go list %v: %v\n%s", args, err, msg)
	}
	return strings.Fields(string(out))
}

// under reports whether package path p is dir or below it.
func under(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

func TestNoDriversUnderSyncOrFlow(t *testing.T) {
	for _, pattern := range []string{"./sync/...", "./kiosk/flow/..."} {
		for _, dep := range goList(t, "-deps", pattern) {
			if under(dep, "onedoor/drivers") {
				t.Errorf("%s depends on %s", pattern, dep)
			}
		}
	}
}

func TestOnlyUIAndAppImportTechUI(t *testing.T) {
	allowed := []string{"onedoor/kiosk/ui", "onedoor/kiosk/app", "onedoor/kiosk/techui"}
	lines := goList(t, "-f", `{{.ImportPath}}={{join .Imports ","}}`, "./kiosk/...")
	for _, l := range lines {
		pkg, imports, _ := strings.Cut(l, "=")
		if slices.ContainsFunc(allowed, func(a string) bool { return under(pkg, a) }) {
			continue
		}
		for _, imp := range strings.Split(imports, ",") {
			if under(imp, "onedoor/kiosk/techui") {
				t.Errorf("%s imports %s; only kiosk/ui and kiosk/app may", pkg, imp)
			}
		}
	}
}

func TestProductionBinaryHasNoPlatform(t *testing.T) {
	deps := goList(t, "-deps", "./kiosk")
	if !slices.Contains(deps, "onedoor/kiosk/app") {
		t.Fatalf("go list -deps ./kiosk does not list kiosk/app; the check would prove nothing: %v", deps)
	}
	for _, dep := range deps {
		if under(dep, "onedoor/sync/platform") || under(dep, "onedoor/sync/faultproxy") || dep == "onedoor/kiosk/demoplatform" {
			t.Errorf("the production onedoor contains %s (link it only under the demo tag)", dep)
		}
	}
	// The demo build does link them: the tag is what keeps them out.
	demo := goList(t, "-deps", "-tags", "no_emoji,demo", "./kiosk")
	if !slices.Contains(demo, "onedoor/sync/platform") {
		t.Errorf("the demo build (-tags demo) does not contain sync/platform; demo mode has no platform")
	}
}
