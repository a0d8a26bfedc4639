package oci

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/runlet/runlet/proto/runc/options"
	task "github.com/runlet/runlet/proto/task/v2"
	tasktypes "github.com/runlet/runlet/proto/types/task"
)

// Pids lists the task's processes; an exec's entry carries its exec id as
// containerd.runc.v1.ProcessDetails, as containerd's shim reports it.
func (s *Service) Pids(ctx context.Context, r *task.PidsRequest) (*task.PidsResponse, error) {
	c, err := s.container(r.GetId())
	if err != nil {
		return nil, err
	}
	pids, err := c.runtime.Ps(ctx, c.id)
	if err != nil {
		return nil, runtimeError(c.bundle, "ps", err)
	}
	execs := c.execIDsByPid()
	resp := &task.PidsResponse{}
	for _, pid := range pids {
		info := &tasktypes.ProcessInfo{Pid: uint32(pid)}
		if id, ok := execs[pid]; ok {
			a, err := marshalAny(&options.ProcessDetails{ExecId: id})
			if err != nil {
				return nil, err
			}
			info.Info = a
		}
		resp.Processes = append(resp.Processes, info)
	}
	return resp, nil
}

// marshalAny packs m with containerd's type URL convention: the bare full
// message name.
func marshalAny(m proto.Message) (*anypb.Any, error) {
	b, err := proto.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", proto.MessageName(m), err)
	}
	return &anypb.Any{TypeUrl: string(proto.MessageName(m)), Value: b}, nil
}
