// Package idmap gives the tasks of a user namespace pod id-mapped mounts,
// whatever their runtime can do: runc 1.1 ignores a mount's uidMappings,
// crun 1.8 fails on them (mount_setattr EPERM), so runletd makes the
// id-mapped mounts itself and hands the runtime plain bind mounts of them.
//
// The design, smallest first:
//
//   - Hold starts a holder: the built-in pause program, run from a memfd
//     (so nothing on disk needs to be executable by the mapped root) in a
//     new user namespace with the pod's mappings, and a new network
//     namespace owned by it. The pause container joins that user namespace
//     by path, so the pod's user namespace exists before its rootfs is
//     mounted; the pod's network namespace is pinned from the holder, so it
//     belongs to the pod's user namespace (net sysctls and privileged
//     ports then work inside, as with containerd 2). The holder is killed
//     once the pause task exists; the pause keeps the namespace alive and
//     later containers take it from /proc/<pause pid>/ns/user.
//   - A Stager clones a mount (open_tree OPEN_TREE_CLONE), id-maps the clone
//     with the user namespace (mount_setattr MOUNT_ATTR_IDMAP) and attaches
//     it under the bundle (bundle/idmap/N). The spec's bind mount is
//     pointed at it and loses its mappings, so the runtime only bind-mounts.
//     Staged mounts live under the bundle: removing the bundle
//     (bundle.Delete unmounts everything below it) releases them, after a
//     crash too.
//   - The rootfs: overlayfs itself cannot be id-mapped (EINVAL), but its
//     layers can (Linux 5.19+). MountRootfs stages an id-mapped clone of
//     every lower directory and of the upper/work parent, mounts the overlay
//     over them at bundle/rootfs and detaches the staged layers again (the
//     overlay holds private clones). Files owned by host root show as the
//     container's root; what the container writes lands as host root.
//   - runc 1.1 mounts the rootfs and bind sources from inside the user
//     namespace, as the mapped root (an unprivileged host uid), so that
//     uid must be able to walk to them: OpenPath gives the directories from
//     runletd's state dir down to the bundle search permission for others
//     (not read) and the bundle itself to the mapped root's group, mode
//     0710, as containerd does for /run/containerd.
package idmap
