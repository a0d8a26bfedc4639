package idmap

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
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

// RootID is the host id container id 0 maps to.
func RootID(mappings []specs.LinuxIDMapping) (uint32, error) {
	for _, m := range mappings {
		if m.ContainerID == 0 {
			return m.HostID, nil
		}
	}
	return 0, fmt.Errorf("idmap: container root is not mapped: %w", errdefs.ErrInvalidArgument)
}

// OpenPath lets a user namespace's root, host group gid, reach dir: every
// directory from top down to dir's parent gets search permission for
// others (never read), and dir becomes group gid's, mode 0710. dir must
// lie under top.
func OpenPath(top, dir string, gid uint32) error {
	rel, err := filepath.Rel(top, dir)
	if err != nil || rel == "." || !filepath.IsLocal(rel) {
		return fmt.Errorf("idmap: %s is not under %s: %w", dir, top, errdefs.ErrInvalidArgument)
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
