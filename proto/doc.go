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
//	registry           the registries all of the above register in (below)
//
// Cgroup metrics are not here: Stats answers with the messages of
// github.com/containerd/cgroups/v3 (cgroup1/stats, cgroup2/stats).
//
// Regenerate after editing a .proto with `make proto` (builds the pinned
// plugins into .tools/, runs /usr/bin/protoc 3.21, then useregistry); `make
// check-proto` fails when the checked-in Go differs from what the .proto
// files generate.
//
// internal/wirecompat proves the wire identity against
// github.com/containerd/containerd/api, in one test binary that links both:
// every message round-trips both ways with every field set, every ttrpc RPC,
// event and Stats reply crosses between our generated code and containerd's,
// and a program importing the shim library and containerd's API (gRPC
// services included) builds, starts and works.
//
// # Linking beside containerd's API
//
// A program may import these packages together with
// github.com/containerd/containerd/api (runtime authors' shims often do):
// the generated code registers its files and types in package registry
// (proto/registry), not in protobuf-go's global registries, so the names the
// two share never clash at init and no GOLANG_PROTOBUF_REGISTRATION_CONFLICT
// is needed. make proto runs protoc-gen-go and then
// internal/cmd/useregistry, which sets the FileRegistry and TypeRegistry of
// each file's protoimpl builders (the knobs protobuf-go's builders offer for
// this; useregistry fails if the generated code changes shape).
//
// What that costs: runlet's messages do not resolve through
// protoregistry.GlobalTypes. runlet decodes an Any into a known type
// ((*anypb.Any).UnmarshalTo, proto.Unmarshal of its value) or resolves it
// with registry.Types; a program that also links containerd's API finds
// containerd's wire-identical types through the global registry (typeurl).
// runlet's Go types are not containerd's: values cross between the two as
// bytes (proto.Marshal, ttrpc), not as Go values.
//
// Why not re-export containerd's generated types (type aliases) instead:
// measured on runlet-shim-runc-v2, that links github.com/containerd/containerd/api/types,
// which brings image-spec, go-digest (regexps compiled at init) and
// descriptorpb into every shim: +270 KiB of binary and +0.3 MiB RSS per pod's
// shim (3.9 to 4.2 MiB in make bench). containerd's task v3 package also
// holds a gRPC binding, so v3 could not be aliased without linking gRPC, and
// containerd's Go field names differ from these (ID, ExecID, ContainerID for
// Id, ExecId, ContainerId), which renames some 230 uses across the tree. The
// registry keeps the shim as it was (no gRPC, same size and RSS) and every
// caller unchanged, on the same wire.
package proto
