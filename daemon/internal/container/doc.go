// Package container runs the containers of runletd's pods: CreateContainer
// (name, image, rootfs snapshot, log path, stdio, spec, the task in the
// pod's shim), Start, Stop (the image's stop signal, a timeout, then
// SIGKILL), Remove, status and listing, each container an explicit state
// machine (created, running, exited) kept in the store.
package container
