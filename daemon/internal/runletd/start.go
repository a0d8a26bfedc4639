package runletd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/runlet/runlet/daemon/internal/pause"
)

// bucketImports remembers which import-directory tarballs were loaded, so an
// unchanged file is not loaded again at every start.
const bucketImports = "imported-files"

type importedFile struct {
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mod_time"`
}

// Start prepares what the daemon must have before it serves: the built-in
// pause image, the tarballs of the import directory, and the runtime (with
// the pods that outlived a restart reconnected).
func (d *Daemon) Start(ctx context.Context) error {
	if err := d.registerPause(ctx); err != nil {
		return err
	}
	if err := d.importDir(ctx); err != nil {
		return err
	}
	return d.startRuntime(ctx)
}

// importSuffixes are the tarballs importDir loads (as k3s does).
var importSuffixes = []string{".tar", ".tar.gz", ".tgz", ".tar.zst"}

// importDir loads every tarball of images.import_dir that is new or changed.
// A tarball that fails is logged and skipped: one bad file must not keep the
// node from starting.
func (d *Daemon) importDir(ctx context.Context) error {
	dir := d.cfg.Images.ImportDir
	if dir == "" {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		if e.IsDir() || !slices.ContainsFunc(importSuffixes, func(s string) bool { return strings.HasSuffix(e.Name(), s) }) {
			continue
		}
		d.importOne(ctx, filepath.Join(dir, e.Name()))
	}
	return nil
}

func (d *Daemon) importOne(ctx context.Context, path string) {
	st, err := os.Stat(path)
	if err != nil {
		d.log.Warn("import skipped", "file", path, "err", err)
		return
	}
	now := importedFile{Size: st.Size(), ModTime: st.ModTime().UTC()}
	var before importedFile
	if d.db.Get(bucketImports, path, &before) == nil && before.Size == now.Size && before.ModTime.Equal(now.ModTime) {
		return
	}
	imgs, err := d.Images.ImportFile(ctx, path)
	if err != nil {
		d.log.Error("import failed", "file", path, "err", err)
		return
	}
	for _, img := range imgs {
		d.log.Info("imported image", "file", path, "id", img.ID, "tags", img.RepoTags)
	}
	if err := d.db.Put(bucketImports, path, now); err != nil {
		d.log.Warn("import not remembered", "file", path, "err", err)
	}
}

// registerPause registers the built-in pause image (pinned), so a pod
// needs no pull, whether or not a pause_image is configured.
func (d *Daemon) registerPause(ctx context.Context) error {
	img, err := pause.Image()
	if err != nil {
		return fmt.Errorf("built-in pause: %w", err)
	}
	reg, err := d.Images.Register(ctx, pause.Ref, img)
	if err != nil {
		return fmt.Errorf("built-in pause: %w", err)
	}
	d.log.Debug("built-in pause registered", "ref", pause.Ref, "id", reg.ID)
	return nil
}

// SandboxImage is the image a pod sandbox runs: the configured pause_image,
// or the built-in pause.
func (d *Daemon) SandboxImage() string {
	if d.cfg.Images.PauseImage != "" {
		return d.cfg.Images.PauseImage
	}
	return pause.Ref
}
