package idmap

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/bundle"
)

// MountRootfs mounts a task's rootfs mounts at target with id-mapped
// layers: every overlay layer (and a bind mount's source) is staged as an
// id-mapped clone under stagingDir, the mounts are made over the clones,
// and the staged clones are detached again. Only overlay and bind mounts
// can be mapped so. On error nothing stays mounted.
func MountRootfs(ctx context.Context, stagingDir, usernsPath string, mounts []bundle.Mount, target string) (err error) {
	st, err := NewStager(stagingDir, usernsPath)
	if err != nil {
		return err
	}
	defer func() {
		err = errors.Join(err, st.Close(), st.Release(context.WithoutCancel(ctx)))
	}()
	mapped := make([]bundle.Mount, 0, len(mounts))
	for _, m := range mounts {
		mm, err := st.mapMount(m)
		if err != nil {
			return err
		}
		mapped = append(mapped, mm)
	}
	return bundle.MountAll(ctx, mapped, target)
}

// mapMount stages what m mounts and returns m over the staged clones.
func (s *Stager) mapMount(m bundle.Mount) (bundle.Mount, error) {
	out := m
	out.Options = slices.Clone(m.Options)
	switch m.Type {
	case "bind", "rbind":
		src, err := s.Bind(m.Source, slices.Contains(m.Options, "rbind") || m.Type == "rbind")
		out.Source = src
		return out, err
	case "overlay":
		return out, s.mapOverlay(out.Options)
	}
	return bundle.Mount{}, fmt.Errorf("idmap: a %s rootfs mount cannot be id-mapped: %w", m.Type, errdefs.ErrNotImplemented)
}

// mapOverlay rewrites lowerdir, upperdir and workdir in opts to staged
// clones. upperdir and workdir must share a parent: overlayfs wants both on
// one mount, so their parent is staged once.
func (s *Stager) mapOverlay(opts []string) error {
	var upper, work string
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "upperdir":
			upper = v
		case "workdir":
			work = v
		}
	}
	if (upper == "") != (work == "") || (upper != "" && filepath.Dir(upper) != filepath.Dir(work)) {
		return fmt.Errorf("idmap: overlay upperdir and workdir must share a parent: %w", errdefs.ErrNotImplemented)
	}
	var upperParent string
	if upper != "" {
		p, err := s.Bind(filepath.Dir(upper), false)
		if err != nil {
			return err
		}
		upperParent = p
	}
	for i, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "lowerdir":
			lowers, err := s.bindAll(strings.Split(v, ":"))
			if err != nil {
				return err
			}
			opts[i] = "lowerdir=" + strings.Join(lowers, ":")
		case "upperdir", "workdir":
			opts[i] = k + "=" + filepath.Join(upperParent, filepath.Base(v))
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
