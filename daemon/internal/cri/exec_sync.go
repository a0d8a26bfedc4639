package cri

import (
	"context"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// maxMsgSize is the largest CRI message runletd sends or receives: 16 MiB,
// the limit kubelet's and crictl's CRI client (k8s.io/cri-client) sets.
const maxMsgSize = 16 << 20

// ExecSyncOutputLimit is what ExecSync returns of stdout and stderr
// together: the message limit less room for the reply's framing (three
// field tags, two lengths, the exit code: under 32 bytes), so the reply
// always fits. containerd keeps 16 MiB of each stream, whose reply then
// fails with ResourceExhausted.
const ExecSyncOutputLimit = maxMsgSize - 1<<10

// ExecSync runs a command in a running container and returns its output
// (at most ExecSyncOutputLimit bytes, the rest dropped) and exit code.
func (s *Server) ExecSync(ctx context.Context, req *runtime.ExecSyncRequest) (*runtime.ExecSyncResponse, error) {
	ctrs := s.runtime.Containers
	res, err := ctrs.ExecSync(ctx, req.GetContainerId(), req.GetCmd(), time.Duration(req.GetTimeout())*time.Second, ExecSyncOutputLimit)
	if err != nil {
		return nil, err
	}
	if res.Truncated {
		s.log.WarnContext(ctx, "ExecSync output truncated", "id", req.GetContainerId(), "limit", ExecSyncOutputLimit)
	}
	return &runtime.ExecSyncResponse{Stdout: res.Stdout, Stderr: res.Stderr, ExitCode: res.ExitCode}, nil
}
