// Package bundle manages OCI runtime bundles on disk for runlet's shims and
// daemon.
//
// A bundle is a directory holding config.json (the OCI runtime spec) and
// rootfs/, the mount point of the container's root filesystem:
//
//	<stateDir>/<namespace>/<id>/         0700
//	<stateDir>/<namespace>/<id>/config.json  0600
//	<stateDir>/<namespace>/<id>/rootfs/  0711
//
// [New] creates such a directory and [Bundle.Delete] unmounts and removes
// it. Shims are usually handed an existing bundle directory by their caller
// (runletd or containerd), so the path-based helpers [ReadSpec],
// [WriteSpec] and [RootfsPath] work on any bundle path.
//
// [MountAll] mounts a task's rootfs mounts (bind, overlay and generic
// filesystem types with mount(8)-style options) at the bundle's rootfs and
// rolls back on failure; [UnmountAll] removes every mount at or below a path.
//
// The spec helpers build configs that the runtimes on the host accept:
// [DefaultSpec] for a plain Linux container, [RuntimeOCIVersion] and
// [SetOCIVersion] to write an ociVersion the runtime binary understands (crun
// 1.8 rejects 1.2.0 and later), [ClampOOMScoreAdj] for hosts without
// CAP_SYS_RESOURCE, and [EnsureHugetlbV1] for crun on hybrid cgroup hosts.
//
// Every identifier that becomes part of a path is checked with [ValidateID].
// Errors are classified with github.com/containerd/errdefs.
package bundle
