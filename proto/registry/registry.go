// Package registry holds the protobuf registries that runlet's generated
// messages register in, in place of protoregistry.GlobalFiles and
// protoregistry.GlobalTypes.
//
// runlet's messages carry containerd's full names (containerd.task.v2.*,
// containerd.events.*, ...) because those names reach the wire. Registered
// globally, they would clash with github.com/containerd/containerd/api in any
// program that links both, and protobuf-go panics at init on such a clash.
// Registered here, they clash with nothing; see package
// github.com/runlet/runlet/proto for the whole design.
//
// Code that resolves an Any by its type URL into runlet's types passes Types
// as the resolver, e.g. anypb.UnmarshalNew(a, proto.UnmarshalOptions{Resolver:
// registry.Types}). Decoding into a known type (proto.Unmarshal,
// (*anypb.Any).UnmarshalTo) needs no registry.
package registry

import "google.golang.org/protobuf/reflect/protoregistry"

var (
	// Files holds the file descriptor of every runlet .proto file.
	Files = new(protoregistry.Files)
	// Types holds every message and enum type runlet generates.
	Types = new(protoregistry.Types)
)
