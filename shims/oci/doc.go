// Package oci is the task service of runlet's shims for runc-compatible
// OCI runtimes (runc, crun, ...), driven through go-runc.
//
// One Service serves every container of one shim group (a pod). Each
// container has an init process and any number of exec processes, each an
// explicit state machine (created, running, paused, stopped, deleted).
// Exits come from the shim's reaper; an exit is reported only after the
// process' output is drained and after its start was reported, and an exec
// exit always before its container's init exit.
package oci
