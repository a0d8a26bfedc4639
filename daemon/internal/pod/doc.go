// Package pod runs runletd's pod sandboxes: RunPodSandbox's steps in
// containerd's order (reserve id and name, the sandbox image's rootfs, the
// handler's runtime, the pod's files, netns and CNI, the pause task through
// the pod's shim), each undone when a later one fails; Stop and Remove,
// both idempotent; status and listing; persistence in the store, and
// recovery of live shims after runletd restarts.
package pod
