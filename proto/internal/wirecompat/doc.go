// Package wirecompat holds only tests: they prove runlet's generated protobuf
// types are wire-identical to github.com/containerd/containerd/api, and that
// one program links both.
//
// The tests import runlet's proto packages and containerd's API together, in
// one test binary, without GOLANG_PROTOBUF_REGISTRATION_CONFLICT: runlet's
// messages register in proto/registry, not in protobuf-go's global registry,
// so their (identical) names do not clash. TestProgramLinkingRunletAndContainerdStarts
// also builds and runs a separate program (testdata/linkboth) that imports the
// shim library and containerd's API, gRPC services included.
package wirecompat
