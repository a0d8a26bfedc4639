package bundle

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const (
	// ConfigFile is the name of the OCI spec inside a bundle.
	ConfigFile = "config.json"
	// RootfsDir is the name of the rootfs mount point inside a bundle.
	RootfsDir = "rootfs"

	configMode = 0o600
)

// ConfigPath returns the path of config.json in the bundle at bundlePath.
func ConfigPath(bundlePath string) string {
	return filepath.Join(bundlePath, ConfigFile)
}

// RootfsPath returns the path of the rootfs mount point in the bundle at
// bundlePath.
func RootfsPath(bundlePath string) string {
	return filepath.Join(bundlePath, RootfsDir)
}

// ReadSpec reads and decodes config.json of the bundle at bundlePath. A
// missing file is errdefs.ErrNotFound, an undecodable one
// errdefs.ErrInvalidArgument.
func ReadSpec(bundlePath string) (*specs.Spec, error) {
	data, err := os.ReadFile(ConfigPath(bundlePath))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read bundle spec: %w: %w", err, errdefs.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read bundle spec: %w", err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, fmt.Errorf("decode %s: %w: %w", ConfigPath(bundlePath), err, errdefs.ErrInvalidArgument)
	}
	return &spec, nil
}

// WriteSpec encodes spec into config.json of the bundle at bundlePath
// atomically: readers see either the old or the new file, never a part.
func WriteSpec(bundlePath string, spec *specs.Spec) error {
	if spec == nil {
		return fmt.Errorf("write bundle spec: nil spec: %w", errdefs.ErrInvalidArgument)
	}
	data, err := json.Marshal(spec)
	if err != nil {
		return fmt.Errorf("encode bundle spec: %w: %w", err, errdefs.ErrInvalidArgument)
	}
	return writeFileAtomic(ConfigPath(bundlePath), data, configMode)
}

// writeFileAtomic writes data to a temporary file next to path, syncs it and
// renames it over path, then syncs the directory so the rename survives a
// crash. The temporary file is removed on any failure.
func writeFileAtomic(path string, data []byte, mode fs.FileMode) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, classifyFSError(err))
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// classifyFSError adds the errdefs class matching a filesystem error.
func classifyFSError(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: %w", err, errdefs.ErrNotFound)
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%w: %w", err, errdefs.ErrAlreadyExists)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w: %w", err, errdefs.ErrPermissionDenied)
	}
	return err
}
