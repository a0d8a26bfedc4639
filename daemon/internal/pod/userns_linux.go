package pod

import (
	"context"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/bundle"
	"github.com/runlet/runlet/daemon/internal/idmap"
	"github.com/runlet/runlet/daemon/internal/netns"
	"github.com/runlet/runlet/daemon/internal/specgen"
	"github.com/runlet/runlet/proto/types"
)

// userns makes the user namespace of a userns mode POD pod (and its
// network namespace, owned by it) in a holder process, so the pause's
// rootfs and files can be id-mapped before the pause exists; see
// daemon/internal/idmap. Other pods need nothing.
func (r *run) userns(ctx context.Context) error {
	ns := nsMode(r.cfg)
	uids, gids, err := specgen.UserNamespaceMappings(ns)
	if err != nil || uids == nil {
		return err
	}
	h, err := idmap.Hold(ctx, uids, gids, ns.GetNetwork() != runtimeapi.NamespaceMode_NODE)
	if err != nil {
		return err
	}
	r.holder = h
	return nil
}

// newNetNS pins the holder's network namespace in a user namespace pod,
// else makes a new one.
func (r *run) newNetNS(ctx context.Context) (*netns.NetNS, error) {
	if r.holder != nil {
		return netns.Pin(ctx, r.s.dir("netns"), r.sb.ID, r.holder.NSPath("net"))
	}
	return netns.New(ctx, r.s.dir("netns"), r.sb.ID)
}

// usernsPath is the user namespace the pause joins ("" for none).
func (r *run) usernsPath() string {
	if r.holder == nil {
		return ""
	}
	return r.holder.NSPath("user")
}

// stageUserns, in a user namespace pod, lets the pod's root reach the
// bundle and stages the spec's id-mapped mounts (resolv.conf, shm).
func (r *run) stageUserns(b *bundle.Bundle, spec *specs.Spec) error {
	if r.holder == nil {
		return nil
	}
	return idmap.PrepareBundle(r.s.o.State, b.Path, r.usernsPath(), spec)
}

// rootfs mounts the pause's rootfs with id-mapped layers in a user
// namespace pod and returns no mounts for the shim; other pods' mounts are
// the shim's to make.
func (r *run) rootfs(ctx context.Context, mounts []*types.Mount) ([]*types.Mount, error) {
	if r.holder == nil {
		return mounts, nil
	}
	uids, gids, err := specgen.UserNamespaceMappings(nsMode(r.cfg))
	if err != nil {
		return nil, err
	}
	root, err := idmap.Root(uids, gids)
	if err != nil {
		return nil, err
	}
	rootfs := bundle.RootfsPath(r.sb.Bundle)
	err = idmap.MountRootfs(ctx, idmap.RootfsStagingDir(r.sb.Bundle), r.usernsPath(), root, bundle.FromProto(mounts), rootfs)
	if err != nil {
		return nil, fmt.Errorf("id-mapped rootfs: %w", err)
	}
	// Unmounted with the bundle, before the snapshot goes (removeFiles).
	return nil, nil
}
