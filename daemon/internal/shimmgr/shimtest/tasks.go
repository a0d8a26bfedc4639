package shimtest

import (
	"context"
	"fmt"
	"sync"

	"github.com/containerd/errdefs"
	"github.com/containerd/ttrpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	task "github.com/runlet/runlet/proto/task/v2"
	tasktypes "github.com/runlet/runlet/proto/types/task"
)

// Tasks is one fake shim's task service: tasks are records that Start
// runs and Kill stops, with no process behind them.
type Tasks struct {
	m *Manager

	mu      sync.Mutex
	tasks   map[string]*fakeTask // guarded by mu
	nextPid uint32               // guarded by mu
	dead    bool                 // guarded by mu: the shim died or shut down
}

type fakeTask struct {
	status tasktypes.Status
	pid    uint32
	exited chan struct{} // closed when the task stops
}

func newTasks(m *Manager) *Tasks { return &Tasks{m: m, tasks: map[string]*fakeTask{}, nextPid: 1000} }

// Status is the status of task id, UNKNOWN when there is none.
func (t *Tasks) Status(id string) tasktypes.Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	if ft, ok := t.tasks[id]; ok {
		return ft.status
	}
	return tasktypes.Status_UNKNOWN
}

// Exit makes a running task exit on its own.
func (t *Tasks) Exit(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if ft, ok := t.tasks[id]; ok {
		ft.stop()
	}
}

func (ft *fakeTask) stop() {
	if ft.status != tasktypes.Status_STOPPED {
		ft.status = tasktypes.Status_STOPPED
		close(ft.exited)
	}
}

func (t *Tasks) empty() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.tasks) == 0
}

func (t *Tasks) gone() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.dead
}

// dieAll ends the shim: its tasks go with it.
func (t *Tasks) dieAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, ft := range t.tasks {
		ft.stop()
		delete(t.tasks, id)
	}
	t.dead = true
}

func (t *Tasks) forceDelete(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if ft, ok := t.tasks[id]; ok {
		ft.stop()
		delete(t.tasks, id)
	}
}

// lock counts a call of method and applies an injected failure (before
// taking the shim's lock: the manager locks in the other order), then
// locks the shim.
func (t *Tasks) lock(method string) (unlock func(), err error) {
	if err := t.m.call(method); err != nil {
		return nil, err
	}
	t.mu.Lock()
	return t.mu.Unlock, nil
}

// find returns task id; a dead shim answers as a closed connection does.
// Called with t.mu held.
func (t *Tasks) find(method, id string) (*fakeTask, error) {
	if t.dead {
		return nil, fmt.Errorf("%s %s: the shim is gone: %w", method, id, ttrpc.ErrClosed)
	}
	ft, ok := t.tasks[id]
	if !ok {
		return nil, fmt.Errorf("task %s: %w", id, errdefs.ErrNotFound)
	}
	return ft, nil
}

func (t *Tasks) Create(ctx context.Context, r *task.CreateTaskRequest) (*task.CreateTaskResponse, error) {
	unlock, err := t.lock("Create")
	if err != nil {
		return nil, err
	}
	defer unlock()
	if t.dead {
		return nil, fmt.Errorf("create %s: the shim is gone: %w", r.GetId(), ttrpc.ErrClosed)
	}
	if _, ok := t.tasks[r.GetId()]; ok {
		return nil, fmt.Errorf("task %s: %w", r.GetId(), errdefs.ErrAlreadyExists)
	}
	t.nextPid++
	t.tasks[r.GetId()] = &fakeTask{status: tasktypes.Status_CREATED, pid: t.nextPid, exited: make(chan struct{})}
	return &task.CreateTaskResponse{Pid: t.nextPid}, nil
}

func (t *Tasks) Start(ctx context.Context, r *task.StartRequest) (*task.StartResponse, error) {
	die := t.m.diesOnStart() // read before the shim lock: the manager locks in the other order
	unlock, err := t.lock("Start")
	if err != nil {
		return nil, err
	}
	defer unlock()
	ft, err := t.find("Start", r.GetId())
	if err != nil {
		return nil, err
	}
	if ft.status != tasktypes.Status_CREATED {
		return nil, fmt.Errorf("task %s is %s: %w", r.GetId(), ft.status, errdefs.ErrFailedPrecondition)
	}
	ft.status = tasktypes.Status_RUNNING
	if die {
		ft.stop()
	}
	return &task.StartResponse{Pid: ft.pid}, nil
}

func (t *Tasks) Kill(ctx context.Context, r *task.KillRequest) (*emptypb.Empty, error) {
	unlock, err := t.lock("Kill")
	if err != nil {
		return nil, err
	}
	defer unlock()
	ft, err := t.find("Kill", r.GetId())
	if err != nil {
		return nil, err
	}
	if r.GetSignal() == 9 || r.GetSignal() == 15 {
		ft.stop()
	}
	return &emptypb.Empty{}, nil
}

func (t *Tasks) Wait(ctx context.Context, r *task.WaitRequest) (*task.WaitResponse, error) {
	unlock, err := t.lock("Wait")
	if err != nil {
		return nil, err
	}
	ft, err := t.find("Wait", r.GetId())
	unlock()
	if err != nil {
		return nil, err
	}
	select {
	case <-ft.exited:
		return &task.WaitResponse{ExitStatus: 137, ExitedAt: timestamppb.Now()}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (t *Tasks) Delete(ctx context.Context, r *task.DeleteRequest) (*task.DeleteResponse, error) {
	unlock, err := t.lock("Delete")
	if err != nil {
		return nil, err
	}
	defer unlock()
	ft, err := t.find("Delete", r.GetId())
	if err != nil {
		return nil, err
	}
	if ft.status == tasktypes.Status_RUNNING {
		return nil, fmt.Errorf("task %s is running: %w", r.GetId(), errdefs.ErrFailedPrecondition)
	}
	delete(t.tasks, r.GetId())
	return &task.DeleteResponse{Pid: ft.pid, ExitStatus: 137}, nil
}

func (t *Tasks) State(ctx context.Context, r *task.StateRequest) (*task.StateResponse, error) {
	unlock, err := t.lock("State")
	if err != nil {
		return nil, err
	}
	defer unlock()
	ft, err := t.find("State", r.GetId())
	if err != nil {
		return nil, err
	}
	return &task.StateResponse{Id: r.GetId(), Pid: ft.pid, Status: ft.status, ExitStatus: 137}, nil
}

func (t *Tasks) Update(ctx context.Context, r *task.UpdateTaskRequest) (*emptypb.Empty, error) {
	unlock, err := t.lock("Update")
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := t.find("Update", r.GetId()); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

func (t *Tasks) Shutdown(ctx context.Context, r *task.ShutdownRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, t.m.Shutdown(ctx, r.GetId())
}

// The calls the lifecycles do not make.

func unimplemented(method string) error {
	return fmt.Errorf("fake shim: %s: %w", method, errdefs.ErrNotImplemented)
}

func (t *Tasks) Pids(context.Context, *task.PidsRequest) (*task.PidsResponse, error) {
	return nil, unimplemented("Pids")
}
func (t *Tasks) Pause(context.Context, *task.PauseRequest) (*emptypb.Empty, error) {
	return nil, unimplemented("Pause")
}
func (t *Tasks) Resume(context.Context, *task.ResumeRequest) (*emptypb.Empty, error) {
	return nil, unimplemented("Resume")
}
func (t *Tasks) Checkpoint(context.Context, *task.CheckpointTaskRequest) (*emptypb.Empty, error) {
	return nil, unimplemented("Checkpoint")
}
func (t *Tasks) Exec(context.Context, *task.ExecProcessRequest) (*emptypb.Empty, error) {
	return nil, unimplemented("Exec")
}
func (t *Tasks) ResizePty(context.Context, *task.ResizePtyRequest) (*emptypb.Empty, error) {
	return nil, unimplemented("ResizePty")
}
func (t *Tasks) CloseIO(context.Context, *task.CloseIORequest) (*emptypb.Empty, error) {
	return nil, unimplemented("CloseIO")
}
func (t *Tasks) Stats(context.Context, *task.StatsRequest) (*task.StatsResponse, error) {
	return nil, unimplemented("Stats")
}
func (t *Tasks) Connect(context.Context, *task.ConnectRequest) (*task.ConnectResponse, error) {
	return nil, unimplemented("Connect")
}
