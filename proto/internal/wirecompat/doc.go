// Package wirecompat holds only tests: they prove runlet's generated protobuf
// types are wire-identical to github.com/containerd/containerd/api.
//
// Both modules register the same protobuf names, which protobuf-go refuses at
// init time, so the tests that import containerd's api carry the build tag
// containerdwire and run in their own test binary with
// GOLANG_PROTOBUF_REGISTRATION_CONFLICT=ignore. A plain `go test` runs
// TestWireCompatibleWithContainerdAPI, which starts that binary:
//
//	go test ./proto/internal/wirecompat/                    (the driver)
//	GOLANG_PROTOBUF_REGISTRATION_CONFLICT=ignore \
//	    go test -tags containerdwire ./proto/internal/wirecompat/   (the checks themselves)
package wirecompat
