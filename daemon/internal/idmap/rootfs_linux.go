package idmap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/bundle"
)

// MountRootfs mounts a task's rootfs mounts at target for the user
// namespace at usernsPath, whose root is host uid:gid root. An overlay's
// lower layers are staged as id-mapped clones under stagingDir, its
// (fresh) upper directory is given to root, and the staged clones are
// detached again once the overlay holds them; a bind mount's source is
// staged id-mapped. Only overlay and bind mounts can be so. On error
// nothing stays mounted.
func MountRootfs(ctx context.Context, stagingDir, usernsPath string, root IDs, mounts []bundle.Mount, target string) (err error) {
	st, err := NewStager(stagingDir, usernsPath)
	if err != nil {
		return err
	}
	defer func() {
		err = errors.Join(err, st.Close(), st.Release(context.WithoutCancel(ctx)))
	}()
	mapped := make([]bundle.Mount, 0, len(mounts))
	for _, m := range mounts {
		mm, err := st.mapMount(m, root)
		if err != nil {
			return err
		}
		mapped = append(mapped, mm)
	}
	return bundle.MountAll(ctx, mapped, target)
}

// IDs are a host uid and gid.
type IDs struct{ UID, GID uint32 }

// mapMount stages what m mounts and returns m over the staged clones.
func (s *Stager) mapMount(m bundle.Mount, root IDs) (bundle.Mount, error) {
	out := m
	out.Options = slices.Clone(m.Options)
	switch m.Type {
	case "bind", "rbind":
		src, err := s.Bind(m.Source, slices.Contains(m.Options, "rbind") || m.Type == "rbind")
		out.Source = src
		return out, err
	case "overlay":
		return out, s.mapOverlay(out.Options, root)
	}
	return bundle.Mount{}, fmt.Errorf("idmap: a %s rootfs mount cannot be id-mapped: %w", m.Type, errdefs.ErrNotImplemented)
}

// mapOverlay rewrites lowerdir in opts to staged id-mapped clones. The
// upper layer is not mapped: overlayfs makes its work directory as the
// mounter (host root), which an id-mapped upper cannot store (EOVERFLOW,
// and the overlay turns read-only); as containerd does, the fresh upper
// directory is chowned to the namespace's root instead, so what the
// container writes is stored with host ids, as copied-up files are.
func (s *Stager) mapOverlay(opts []string, root IDs) error {
	for i, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "lowerdir":
			lowers, err := s.bindAll(strings.Split(v, ":"))
			if err != nil {
				return err
			}
			opts[i] = "lowerdir=" + strings.Join(lowers, ":")
		case "upperdir":
			if err := os.Lchown(v, int(root.UID), int(root.GID)); err != nil {
				return fmt.Errorf("idmap: give the upper directory to the mapped root: %w", err)
			}
		}
	}
	return nil
}

func (s *Stager) bindAll(dirs []string) ([]string, error) {
	out := make([]string, 0, len(dirs))
	for _, d := range dirs {
		p, err := s.Bind(d, false)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
