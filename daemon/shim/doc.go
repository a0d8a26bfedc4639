// Package shim is the daemon's side of the containerd shim v2 protocol:
// it starts any shim v2 binary (runlet's or a third party's) with the
// bootstrap every generation expects, reads its reply in every
// generation, connects over ttrpc to containerd.task.v2.Task or
// containerd.task.v3.Task, runs the `delete` cleanup, and serves the
// containerd.services.events.ttrpc.v1.Events service shims publish to.
//
// It speaks to shims only over the wire and imports no shim code.
package shim
