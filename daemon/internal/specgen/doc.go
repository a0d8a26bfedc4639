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
// volumes without a ContainerOptions.ImageMount) is
// errdefs.ErrNotImplemented; a host that is not set up for a
// request (a BIDIRECTIONAL mount of a private host mount) is
// errdefs.ErrFailedPrecondition.
//
// Where runlet deliberately differs from containerd:
//
//   - A CRI mount whose host path does not exist is InvalidArgument, as
//     kubelet expects; containerd creates a directory there.
//   - Empty masked_paths and readonly_paths mean the default lists (kubelet
//     always sends them; crictl does not), except in a user namespace, where
//     kubelet's procMount Unmasked sends them empty; containerd masks
//     nothing whenever they are empty.
//   - A privileged sandbox mounts /sys read-write: runc makes a read-only
//     sysfs read-only at the superblock its network namespace shares, which
//     would leave the pod's privileged containers a read-only /sys.
//   - Mount id mappings are only written when they will be honoured
//     (ContainerOptions.IDMappedMounts: runletd stages id-mapped mounts
//     itself, see daemon/internal/idmap); containerd writes them always.
//     The pod's /dev/shm is mapped too, and the pause container joins a
//     user namespace runletd made (SandboxOptions.UsernsPath).
//   - User namespace mappings must map container root and must not
//     overlap.
//   - Sysctls are validated (namespaced ones only, not those of a host
//     namespace); unknown capabilities and mount options outside a small
//     allowlist are refused instead of passed on, and so are CDI devices
//     when CDI is off (no ContainerOptions.CDI).
//   - add_ambient_capabilities are honoured as the CRI describes.
//   - A NODE namespace is left out of the spec rather than joined through
//     the pause process (the same namespace).
//   - Cgroups are named runlet-<id> (cgroupfs) or slice:runlet:<id>
//     (systemd), see CgroupsPath.
package specgen
