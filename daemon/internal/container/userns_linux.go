package container

import (
	"context"
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/bundle"
	"github.com/runlet/runlet/daemon/internal/idmap"
	"github.com/runlet/runlet/daemon/internal/shimmgr"
	"github.com/runlet/runlet/daemon/internal/specgen"
)

// withFeatures sets what the container's mounts may ask for: recursive
// read-only mounts when the pod's runtime makes them, id-mapped mounts in
// a user namespace pod (runletd makes those itself, see newBundle). There
// runletd's own extra mounts (the image's declared volumes) get the pod's
// mappings, as its files do: their content is the image's, and the mapped
// root could not reach them under runletd's root directory otherwise.
func (r *create) withFeatures(ctx context.Context, o specgen.ContainerOptions) specgen.ContainerOptions {
	if h, err := r.s.o.Pods.Handler(r.sb.Handler); err == nil {
		o.RecursiveReadOnly = h.Features(ctx).RecursiveReadOnlyMounts
	}
	userns := r.sbCfg.GetLinux().GetSecurityContext().GetNamespaceOptions().GetUsernsOptions()
	o.IDMappedMounts = userns.GetMode() == runtimeapi.NamespaceMode_POD
	if o.IDMappedMounts {
		extra := make([]*runtimeapi.Mount, 0, len(o.ExtraMounts))
		for _, m := range o.ExtraMounts {
			m = proto.Clone(m).(*runtimeapi.Mount)
			if len(m.GetUidMappings()) == 0 && len(m.GetGidMappings()) == 0 {
				m.UidMappings, m.GidMappings = userns.GetUids(), userns.GetGids()
			}
			extra = append(extra, m)
		}
		o.ExtraMounts = extra
	}
	return o
}

// newBundle writes the container's bundle. In a user namespace pod it
// also stages the spec's id-mapped mounts and mounts the rootfs with
// id-mapped layers itself (the shim then gets no rootfs mounts), all with
// the pause's user namespace; see daemon/internal/idmap. Staged mounts
// live under the bundle and go with it.
func (r *create) newBundle(ctx context.Context, spec *specs.Spec) (_ *bundle.Bundle, err error) {
	b, err := specgen.NewBundle(ctx, r.s.dir("bundles"), shimmgr.Namespace, r.c.ID, spec)
	if err != nil || spec.Linux == nil || spec.Linux.UIDMappings == nil {
		return b, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, b.Delete(context.WithoutCancel(ctx)))
		}
	}()
	userns := fmt.Sprintf("/proc/%d/ns/user", r.sb.Pid)
	if err := idmap.PrepareBundle(r.s.o.State, b.Path, userns, spec); err != nil {
		return nil, err
	}
	root, err := idmap.Root(spec.Linux.UIDMappings, spec.Linux.GIDMappings)
	if err != nil {
		return nil, err
	}
	if err := idmap.MountRootfs(ctx, idmap.RootfsStagingDir(b.Path), userns, root, bundle.FromProto(r.mounts), b.Rootfs()); err != nil {
		return nil, fmt.Errorf("id-mapped rootfs: %w", err)
	}
	r.mounts = nil
	return b, nil
}

// IDMappedMountsSupported reports whether the filesystems of runletd's
// state (bundles, pod files) and root (image layers, snapshots), and tmpfs
// (the pod's /dev/shm; the host's stands in for it), take id-mapped mounts,
// which user namespace pods need; the kernel is asked once per directory.
func (s *Service) IDMappedMountsSupported(ctx context.Context) bool {
	for _, dir := range []string{s.o.State, s.o.Root, "/dev/shm"} {
		if dir != "" && idmap.Supported(ctx, dir) != nil {
			return false
		}
	}
	return true
}
