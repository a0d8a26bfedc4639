// Package specgen turns CRI requests into OCI runtime specs the way
// containerd's CRI plugin does, so that runletd's RunPodSandbox and
// CreateContainer only prepare files and call SandboxSpec or ContainerSpec.
//
// Both functions validate their input and classify failures with
// github.com/containerd/errdefs: a malformed CRI request (a relative
// container path, an unknown capability, a sysctl outside the pod's
// namespaces, a host path that does not exist, ...) is
// errdefs.ErrInvalidArgument with a message naming the CRI field; a feature
// this host or runtime lacks (AppArmor, recursive read-only mounts, image
// volumes) is errdefs.ErrNotImplemented; a host that is not set up for a
// request (a BIDIRECTIONAL mount of a private host mount) is
// errdefs.ErrFailedPrecondition.
//
// Where runlet deliberately differs from containerd, the doc comment of the
// function concerned says so.
package specgen
