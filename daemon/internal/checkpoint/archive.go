package checkpoint

import (
	"fmt"
	"os"
	"path/filepath"
)

// Archive writes the stage as an uncompressed tar at dst, whole or not at
// all: into a temp file beside dst, synced, then renamed over it.
func (s *Stage) Archive(dst string) error {
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+"-*")
	if err != nil {
		return fmt.Errorf("checkpoint archive %s: %w", dst, err)
	}
	defer os.Remove(tmp.Name()) // fails once renamed
	if _, err := writeTree(tmp, s.Dir, false); err != nil {
		tmp.Close()
		return fmt.Errorf("checkpoint archive %s: %w", dst, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("checkpoint archive %s: %w", dst, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("checkpoint archive %s: %w", dst, err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("checkpoint archive %s: %w", dst, err)
	}
	return nil
}
