// Package cri serves the CRI v1 RuntimeService and ImageService over gRPC.
// Each RPC lives in its own file; errors are classified with errdefs inside
// and turned into gRPC codes in one place (errors.go).
package cri

import (
	"log/slog"
	"sync/atomic"

	"google.golang.org/grpc"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/daemon/internal/cni"
	"github.com/runlet/runlet/daemon/internal/container"
	"github.com/runlet/runlet/daemon/internal/images"
	"github.com/runlet/runlet/daemon/internal/pod"
	"github.com/runlet/runlet/daemon/internal/streaming"
	"github.com/runlet/runlet/runtimeclass"
)

// RuntimeName is reported by Version.
const RuntimeName = "runlet"

// Server implements the CRI. RuntimeService methods not built yet answer
// Unimplemented through the embedded type.
type Server struct {
	runtime.UnimplementedRuntimeServiceServer
	runtime.UnimplementedImageServiceServer

	images  *images.Service
	runtime Runtime
	version string
	log     *slog.Logger

	// podCIDR is the node's pod CIDR kubelet last sent (UpdateRuntimeConfig).
	podCIDR atomic.Pointer[string]
}

// Runtime is what the RuntimeService serves pods from; nil answers
// Unavailable for the pod calls.
type Runtime struct {
	Pods       *pod.Service
	Containers *container.Service
	Network    *cni.Network
	Handlers   *runtimeclass.Set
	// Streaming hands out the URLs of Exec, Attach and PortForward.
	Streaming *streaming.Server
	// CNIConfDir and CNIConfTemplate: UpdateRuntimeConfig renders the
	// template ("" = none) into the dir with the node's pod CIDR.
	CNIConfDir, CNIConfTemplate string
}

// New returns a CRI server over the image service and the runtime.
func New(img *images.Service, rt Runtime, version string, log *slog.Logger) *Server {
	return &Server{images: img, runtime: rt, version: version, log: log}
}

// NewGRPCServer returns a gRPC server with both CRI services registered and
// the error-to-code interceptors installed.
func (s *Server) NewGRPCServer() *grpc.Server {
	g := grpc.NewServer(
		grpc.ChainUnaryInterceptor(s.unaryInterceptor),
		grpc.ChainStreamInterceptor(s.streamInterceptor),
		grpc.MaxRecvMsgSize(maxMsgSize), grpc.MaxSendMsgSize(maxMsgSize),
	)
	runtime.RegisterRuntimeServiceServer(g, s)
	runtime.RegisterImageServiceServer(g, s)
	return g
}
