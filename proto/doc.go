// Package proto is the root of runlet's wire contract with containerd shims:
// the project's own .proto sources and the Go generated from them by
// protoc-gen-go and protoc-gen-go-ttrpc (ttrpc only, no gRPC). Every message
// is wire-identical to containerd's: same full names where a name reaches the
// wire (Any type URLs, ttrpc service names), same field numbers and types.
//
//	types              containerd.types: Mount, Envelope, RuntimeInfo (shim -info)
//	types/task         containerd.v1.types: Status, Process, ProcessInfo
//	task/v2            containerd.task.v2: the Task service and all its messages
//	task/v3            containerd.task.v3: the same Task service under its v3 name
//	events             containerd.events: Task* event payloads
//	events/ttrpc/v1    containerd.services.events.ttrpc.v1: the Events service (Forward)
//	bootstrap/v1       containerd.runtime.bootstrap.v1: BootstrapParams, BootstrapResult
//	runc/options       containerd.runc.v1: runtime Options, CheckpointOptions, ProcessDetails
//
// Cgroup metrics are not here: Stats answers with the messages of
// github.com/containerd/cgroups/v3 (cgroup1/stats, cgroup2/stats).
//
// Regenerate after editing a .proto with `make proto` (builds the pinned
// plugins into .tools/ and runs /usr/bin/protoc 3.21); `make check-proto`
// fails when the checked-in Go differs from what the .proto files generate.
//
// internal/wirecompat proves the wire identity against
// github.com/containerd/containerd/api: every message round-trips both ways
// with every field set, and every ttrpc RPC, event and Stats reply crosses
// between our generated code and containerd's.
//
// These packages register the same protobuf names as
// github.com/containerd/containerd/api, so one binary must not link both:
// protobuf-go panics at init on the name conflict.
package proto
