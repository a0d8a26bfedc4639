package idmap

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runlet/runlet/bundle"
)

// StageSpecMounts replaces every mount of spec that asks for id mappings
// by a plain bind mount of an id-mapped clone staged with st. The
// mappings must be the spec's own (the pod's): the clones are mapped with
// the pod's user namespace.
func StageSpecMounts(st *Stager, spec *specs.Spec) error {
	for i := range spec.Mounts {
		m := &spec.Mounts[i]
		if len(m.UIDMappings) == 0 && len(m.GIDMappings) == 0 {
			continue
		}
		if spec.Linux == nil || !slices.Equal(m.UIDMappings, spec.Linux.UIDMappings) || !slices.Equal(m.GIDMappings, spec.Linux.GIDMappings) {
			return fmt.Errorf("idmap: mount %s: only the pod's own id mappings are supported: %w", m.Destination, errdefs.ErrNotImplemented)
		}
		if m.Type != "bind" && !slices.Contains(m.Options, "bind") && !slices.Contains(m.Options, "rbind") {
			return fmt.Errorf("idmap: mount %s: only bind mounts can be id-mapped: %w", m.Destination, errdefs.ErrNotImplemented)
		}
		src, err := st.Bind(m.Source, slices.Contains(m.Options, "rbind"))
		if err != nil {
			return fmt.Errorf("mount %s: %w", m.Destination, err)
		}
		m.Source, m.UIDMappings, m.GIDMappings = src, nil, nil
		m.Options = slices.DeleteFunc(m.Options, func(o string) bool { return o == "idmap" || o == "ridmap" })
	}
	return nil
}

// PrepareBundle readies a written bundle for a task in the user namespace
// at usernsPath: the namespace's root may reach it (OpenPath from top),
// and the spec's id-mapped mounts are staged under bundle/idmap and
// config.json rewritten to bind them.
func PrepareBundle(top, bundlePath, usernsPath string, spec *specs.Spec) error {
	root, err := Root(spec.Linux.UIDMappings, spec.Linux.GIDMappings)
	if err != nil {
		return err
	}
	if err := OpenPath(top, bundlePath, root.GID); err != nil {
		return err
	}
	st, err := NewStager(filepath.Join(bundlePath, "idmap"), usernsPath)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := StageSpecMounts(st, spec); err != nil {
		return err
	}
	return bundle.WriteSpec(bundlePath, spec)
}

// RootfsStagingDir is where MountRootfs stages a bundle's layers.
func RootfsStagingDir(bundlePath string) string { return filepath.Join(bundlePath, "idmap-rootfs") }

// Root is the host uid and gid container root maps to.
func Root(uids, gids []specs.LinuxIDMapping) (IDs, error) {
	uid, uok := rootOf(uids)
	gid, gok := rootOf(gids)
	if !uok || !gok {
		return IDs{}, fmt.Errorf("idmap: container root is not mapped: %w", errdefs.ErrInvalidArgument)
	}
	return IDs{UID: uid, GID: gid}, nil
}

func rootOf(mappings []specs.LinuxIDMapping) (uint32, bool) {
	for _, m := range mappings {
		if m.ContainerID == 0 {
			return m.HostID, true
		}
	}
	return 0, false
}

// OpenPath lets a user namespace's root, host group gid, reach dir: every
// directory from top down to dir's parent gets search permission for
// others (never read), and dir becomes group gid's, mode 0710. dir must
// lie under top; top's own parents must be searchable by others already
// (errdefs.ErrFailedPrecondition names the first that is not): they are
// not runletd's to change.
func OpenPath(top, dir string, gid uint32) error {
	rel, err := filepath.Rel(top, dir)
	if err != nil || rel == "." || !filepath.IsLocal(rel) {
		return fmt.Errorf("idmap: %s is not under %s: %w", dir, top, errdefs.ErrInvalidArgument)
	}
	if err := searchable(filepath.Dir(filepath.Clean(top))); err != nil {
		return err
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("idmap: %w", err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(p, fi.Mode().Perm()|0o001); err != nil {
				return fmt.Errorf("idmap: %w", err)
			}
		}
		if p == filepath.Clean(top) {
			break
		}
	}
	if err := os.Chown(dir, -1, int(gid)); err != nil {
		return fmt.Errorf("idmap: %w", err)
	}
	if err := os.Chmod(dir, 0o710); err != nil {
		return fmt.Errorf("idmap: %w", err)
	}
	return nil
}

// searchable checks that others may search dir and its parents.
func searchable(dir string) error {
	for p := dir; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("idmap: %w", err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("idmap: a user namespace's root cannot reach runletd's state: %s is mode %v, needs search permission for others (o+x): %w",
				p, fi.Mode().Perm(), errdefs.ErrFailedPrecondition)
		}
		if p == "/" {
			return nil
		}
	}
}
