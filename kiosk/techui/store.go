package techui

import (
	"errors"
	"io/fs"

	"onedoor/kiosk/config"
)

// FileStore is the configuration file: Load falls back to the defaults
// when the file does not exist yet, Save is config.Save (validated, temp
// file, fsync, rename, fsync of the directory).
type FileStore struct{ Path string }

// Load reads the file.
func (s FileStore) Load() (config.Config, error) {
	c, err := config.Load(s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return config.Default(), nil
	}
	return c, err
}

// Save writes the file atomically.
func (s FileStore) Save(c config.Config) error { return config.Save(s.Path, c) }
