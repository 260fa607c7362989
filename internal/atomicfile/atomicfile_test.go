package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	for _, tc := range []struct {
		name    string
		before  string // existing content; "" for none
		dirAt   bool   // a directory sits at the path
		write   func(path string, data []byte, perm fs.FileMode) error
		wantErr error // nil: success expected; errAny: some error
		want    string
	}{
		{"new file", "", false, Write, nil, "new"},
		{"replace", "old", false, Write, nil, "new"},
		{"exclusive new", "", false, WriteNew, nil, "new"},
		{"exclusive existing", "old", false, WriteNew, fs.ErrExist, "old"},
		{"onto a directory", "", true, Write, errAny, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "state.json")
			if tc.before != "" {
				if err := os.WriteFile(path, []byte(tc.before), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tc.dirAt {
				if err := os.Mkdir(path, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(path, "x"), nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			err := tc.write(path, []byte("new"), 0o600)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("error %v", err)
			case tc.wantErr == errAny && err == nil, tc.wantErr != nil && tc.wantErr != errAny && !errors.Is(err, tc.wantErr):
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if tc.want != "" {
				got, err := os.ReadFile(path)
				if err != nil || string(got) != tc.want {
					t.Fatalf("content %q (%v), want %q", got, err, tc.want)
				}
			}
			if tc.wantErr == nil {
				fi, err := os.Stat(path)
				if err != nil || fi.Mode().Perm() != 0o600 {
					t.Errorf("mode %v (%v), want 0600", fi.Mode().Perm(), err)
				}
			}
			// Nothing but the file itself (or the directory) is left.
			ents, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(ents) != 1 {
				var names []string
				for _, e := range ents {
					names = append(names, e.Name())
				}
				t.Errorf("directory holds %v, want only the file", names)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestWriteMissingDir(t *testing.T) {
	if err := Write(filepath.Join(t.TempDir(), "no", "file"), []byte("x"), 0o600); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("error %v, want not exist", err)
	}
	if err := SyncDir(filepath.Join(t.TempDir(), "no")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("SyncDir error %v, want not exist", err)
	}
}
