package shim

import (
	"context"

	"github.com/containerd/errdefs/pkg/errgrpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	task "github.com/runlet/runlet/proto/task/v2"
)

// nativeErrors turns the status codes a shim answers with back into
// errdefs errors, so the daemon tests them with errdefs.IsNotFound and the
// like. (A ttrpc client interceptor cannot: ttrpc decodes the status after
// interceptors return.)
type nativeErrors struct{ t task.TaskService }

// native converts a status the shim sent; local errors (the connection
// closed, the context ended) keep their identity.
func native[T any](resp T, err error) (T, error) {
	if _, isStatus := status.FromError(err); err != nil && isStatus {
		return resp, errgrpc.ToNative(err)
	}
	return resp, err
}

func (n nativeErrors) State(ctx context.Context, r *task.StateRequest) (*task.StateResponse, error) {
	return native(n.t.State(ctx, r))
}

func (n nativeErrors) Create(ctx context.Context, r *task.CreateTaskRequest) (*task.CreateTaskResponse, error) {
	return native(n.t.Create(ctx, r))
}

func (n nativeErrors) Start(ctx context.Context, r *task.StartRequest) (*task.StartResponse, error) {
	return native(n.t.Start(ctx, r))
}

func (n nativeErrors) Delete(ctx context.Context, r *task.DeleteRequest) (*task.DeleteResponse, error) {
	return native(n.t.Delete(ctx, r))
}

func (n nativeErrors) Pids(ctx context.Context, r *task.PidsRequest) (*task.PidsResponse, error) {
	return native(n.t.Pids(ctx, r))
}

func (n nativeErrors) Pause(ctx context.Context, r *task.PauseRequest) (*emptypb.Empty, error) {
	return native(n.t.Pause(ctx, r))
}

func (n nativeErrors) Resume(ctx context.Context, r *task.ResumeRequest) (*emptypb.Empty, error) {
	return native(n.t.Resume(ctx, r))
}

func (n nativeErrors) Checkpoint(ctx context.Context, r *task.CheckpointTaskRequest) (*emptypb.Empty, error) {
	return native(n.t.Checkpoint(ctx, r))
}

func (n nativeErrors) Kill(ctx context.Context, r *task.KillRequest) (*emptypb.Empty, error) {
	return native(n.t.Kill(ctx, r))
}

func (n nativeErrors) Exec(ctx context.Context, r *task.ExecProcessRequest) (*emptypb.Empty, error) {
	return native(n.t.Exec(ctx, r))
}

func (n nativeErrors) ResizePty(ctx context.Context, r *task.ResizePtyRequest) (*emptypb.Empty, error) {
	return native(n.t.ResizePty(ctx, r))
}

func (n nativeErrors) CloseIO(ctx context.Context, r *task.CloseIORequest) (*emptypb.Empty, error) {
	return native(n.t.CloseIO(ctx, r))
}

func (n nativeErrors) Update(ctx context.Context, r *task.UpdateTaskRequest) (*emptypb.Empty, error) {
	return native(n.t.Update(ctx, r))
}

func (n nativeErrors) Wait(ctx context.Context, r *task.WaitRequest) (*task.WaitResponse, error) {
	return native(n.t.Wait(ctx, r))
}

func (n nativeErrors) Stats(ctx context.Context, r *task.StatsRequest) (*task.StatsResponse, error) {
	return native(n.t.Stats(ctx, r))
}

func (n nativeErrors) Connect(ctx context.Context, r *task.ConnectRequest) (*task.ConnectResponse, error) {
	return native(n.t.Connect(ctx, r))
}

func (n nativeErrors) Shutdown(ctx context.Context, r *task.ShutdownRequest) (*emptypb.Empty, error) {
	return native(n.t.Shutdown(ctx, r))
}
