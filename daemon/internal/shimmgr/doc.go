// Package shimmgr runs the shims of runletd's pods: one shim process per
// pod, started with the pod's runtime handler for its sandbox task and
// reused for every container of the pod, as containerd does. It serves the
// events shims publish, notices a shim that dies, and reconnects to live
// shims after runletd restarts.
package shimmgr
