package shimtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/ttrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	task "github.com/runlet/runlet/proto/task/v2"
	taskv3 "github.com/runlet/runlet/proto/task/v3"
)

// Shim is one serving shim process (one per group), reached over ttrpc.
type Shim struct {
	env     *Env
	Address string
	// Version is the task API the client speaks (2 or 3).
	Version int
	Pid     int
	Client  *Client

	conn      *ttrpc.Client
	startTime string
	mu        sync.Mutex
	ids       []string
	deleted   map[string]bool
}

// Started is the outcome of one `start`.
type Started struct {
	Shim   *Shim
	Reply  Reply
	Output CmdResult
}

// Start runs `start` for a bundle in the given generation, connects to the
// address it prints (reusing the connection when the address is one the
// env already serves: grouping) and learns the shim's pid from Connect.
// The shim is shut down, and leak-checked, at cleanup.
func (e *Env) Start(ctx context.Context, req StartRequest) (*Started, error) {
	if req.Gen == 0 {
		req.Gen = Gen2
	}
	if req.Options != nil && req.Options.GetRoot() != "" {
		e.useRoot(req.Options.GetRoot())
	}
	if req.Options == nil {
		e.UseDefaultRoot()
	}
	stdin, err := e.stdinFor(req)
	if err != nil {
		return nil, err
	}
	args := []string{"start"}
	if req.Debug {
		args = []string{"-debug", "start"}
	}
	out := e.Command(ctx, req.Bundle, req.Gen, req.MaxVersion, stdin, req.ID, args...)
	e.adoptStrays(req.Bundle)
	if out.Err != nil {
		return &Started{Output: out}, fmt.Errorf("start: %s", out)
	}
	reply, err := ParseReply(out.Stdout)
	if err != nil {
		return &Started{Output: out}, err
	}
	st := &Started{Reply: reply, Output: out}
	// Concurrent starts of one group print one address: dial it once.
	e.dialMu.Lock()
	defer e.dialMu.Unlock()
	e.mu.Lock()
	if s, ok := e.shims[reply.Address]; ok {
		e.mu.Unlock()
		st.Shim = s
		return st, nil
	}
	e.mu.Unlock()
	s, err := e.dial(ctx, reply, req.ID)
	if err != nil {
		return st, err
	}
	st.Shim = s
	return st, nil
}

// adoptStrays learns a shim server's pid from bundle/shim.pid (our shims
// and containerd's write it) so it is cleaned up even if connecting fails.
func (e *Env) adoptStrays(bundleDir string) {
	b, err := os.ReadFile(filepath.Join(bundleDir, "shim.pid"))
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return
	}
	e.trackPid(pid)
}

func (e *Env) dial(ctx context.Context, reply Reply, id string) (*Shim, error) {
	path := SocketPath(reply.Address)
	if path == "" {
		return nil, fmt.Errorf("address %q is not a filesystem unix socket", reply.Address)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("dial shim: %w", err)
	}
	s := &Shim{env: e, Address: reply.Address, Version: reply.Version, deleted: map[string]bool{}}
	s.conn = ttrpc.NewClient(conn)
	var svc task.TaskService
	if reply.Version == 3 {
		svc = taskv3.NewTaskClient(s.conn)
	} else {
		svc = task.NewTaskClient(s.conn)
	}
	s.Client = &Client{TaskService: svc, shim: s}
	e.mu.Lock()
	e.shims[reply.Address] = s
	e.mu.Unlock()
	e.T.Cleanup(s.cleanup)
	resp, err := svc.Connect(ctx, &task.ConnectRequest{Id: id})
	if err != nil {
		return s, fmt.Errorf("Connect: %w", err)
	}
	s.Pid = int(resp.GetShimPid())
	s.startTime = procStartTime(s.Pid)
	e.trackPid(s.Pid)
	return s, nil
}

// Alive reports whether the shim process still runs (not a zombie, and not
// a new process that reused its pid).
func (s *Shim) Alive() bool {
	return s.Pid > 0 && processAlive(s.Pid, s.startTime)
}

// WaitExit waits until the shim process is gone.
func (s *Shim) WaitExit(ctx context.Context) error {
	return waitGone(ctx, s.Pid, s.startTime)
}

// Kill sends SIGKILL to the shim process (the test's own child in all but
// name: its pid came from Connect) and marks its socket as expectedly
// stale: a dead shim cannot remove it, a daemon does.
func (s *Shim) Kill() error {
	if !s.Alive() {
		return errors.New("shim not running")
	}
	s.env.mu.Lock()
	s.env.staleSocket[SocketPath(s.Address)] = true
	s.env.mu.Unlock()
	return syscall.Kill(s.Pid, syscall.SIGKILL)
}

// MarkDeleted records that a task was removed by other means (the
// `delete` subcommand), so cleanup does not try again.
func (s *Shim) MarkDeleted(id string) {
	s.mu.Lock()
	s.deleted[id] = true
	s.mu.Unlock()
}

// IDs returns the container ids created through this shim.
func (s *Shim) IDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ids...)
}

// cleanup deletes what the test left, checks the shim holds no stdio FIFO,
// shuts it down and checks it exited and removed its socket.
func (s *Shim) cleanup() {
	t := s.env.T
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	s.mu.Lock()
	var left []string
	for _, id := range s.ids {
		if !s.deleted[id] {
			left = append(left, id)
		}
	}
	s.mu.Unlock()
	var orphans []string
	if s.Alive() {
		for _, id := range left {
			if !s.forceDelete(ctx, id) {
				orphans = append(orphans, id)
			}
		}
		s.env.closeStdio()
		if z := zombieChildren(ctx, s.Pid); len(z) > 0 {
			t.Errorf("leak: shim %d has unreaped children %v", s.Pid, z)
		}
		if len(left) == 0 {
			// The harness has closed its FIFO ends (stdio cleanups ran
			// first); a shim lets go of its own ends once it sees that.
			fds := FdsUnder(s.Pid, filepath.Join(s.env.Dir, "io"))
			for deadline := time.Now().Add(10 * time.Second); len(fds) > 0 && time.Now().Before(deadline); {
				time.Sleep(50 * time.Millisecond)
				fds = FdsUnder(s.Pid, filepath.Join(s.env.Dir, "io"))
			}
			if len(fds) > 0 && s.env.Target.TerminalStdinLeak != "" && s.env.onlyTerminalStdin(fds) {
				t.Logf("shim %d still holds terminal stdin FIFOs %v: accepted: %s", s.Pid, fds, s.env.Target.TerminalStdinLeak)
			} else if len(fds) > 0 {
				t.Errorf("leak: shim %d still holds stdio FIFOs after every task was deleted and the client closed its ends: %v", s.Pid, fds)
			}
		}
		sctx, scancel := context.WithTimeout(ctx, 20*time.Second)
		_, err := s.Client.Shutdown(sctx, &task.ShutdownRequest{Id: s.firstID()})
		scancel()
		if err != nil && !IsClosedErr(err) {
			t.Logf("Shutdown of shim %d: %v", s.Pid, err)
		}
	} else {
		orphans = left
	}
	s.conn.Close()
	if s.Pid > 0 {
		wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
		err := s.WaitExit(wctx)
		wcancel()
		if err != nil {
			t.Errorf("leak: shim %d still runs after Shutdown with no task left: %v", s.Pid, err)
			syscall.Kill(s.Pid, syscall.SIGKILL)
			wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
			_ = s.WaitExit(wctx)
			wcancel()
		}
	}
	// Tasks the shim could not delete (it crashed, or the test killed it):
	// clean up as a daemon does, with `SHIM delete`.
	for _, id := range orphans {
		s.env.deleteSubcommand(ctx, id)
	}
	path := SocketPath(s.Address)
	if path == "" {
		return
	}
	if _, err := os.Lstat(path); err == nil {
		s.env.mu.Lock()
		stale := s.env.staleSocket[path]
		s.env.mu.Unlock()
		if !stale {
			t.Errorf("leak: socket %s left after the shim exited", path)
		}
		os.Remove(path)
	}
}

func (s *Shim) firstID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ids) > 0 {
		return s.ids[0]
	}
	return ""
}

// forceDelete kills and deletes a task the test left behind; false when
// the shim could not delete it.
func (s *Shim) forceDelete(ctx context.Context, id string) bool {
	c := s.Client.TaskService
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := c.Kill(ctx, &task.KillRequest{Id: id, Signal: uint32(syscall.SIGKILL), All: true}); err != nil && !IsNotFound(err) {
		s.env.T.Logf("cleanup: kill %s: %v", id, err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	_, _ = c.Wait(wctx, &task.WaitRequest{Id: id})
	wcancel()
	if _, err := c.Delete(ctx, &task.DeleteRequest{Id: id}); err != nil && !IsNotFound(err) {
		s.env.T.Logf("cleanup: delete %s: %v", id, err)
		return false
	}
	return true
}

// Client is the shim's task service; Create and Delete are recorded so the
// harness knows what to clean up and leak-check.
type Client struct {
	task.TaskService
	shim *Shim
}

// Shim is the process behind the client.
func (c *Client) Shim() *Shim { return c.shim }

func (c *Client) Create(ctx context.Context, req *task.CreateTaskRequest) (*task.CreateTaskResponse, error) {
	s := c.shim
	s.mu.Lock()
	known := false
	for _, id := range s.ids {
		known = known || id == req.GetId()
	}
	if !known {
		s.ids = append(s.ids, req.GetId())
	}
	s.mu.Unlock()
	s.env.mu.Lock()
	s.env.containers = append(s.env.containers, req.GetId())
	s.env.mu.Unlock()
	resp, err := c.TaskService.Create(ctx, req)
	if err == nil {
		s.mu.Lock()
		delete(s.deleted, req.GetId())
		s.mu.Unlock()
	}
	return resp, err
}

func (c *Client) Delete(ctx context.Context, req *task.DeleteRequest) (*task.DeleteResponse, error) {
	resp, err := c.TaskService.Delete(ctx, req)
	if req.GetExecId() == "" && (err == nil || IsNotFound(err)) {
		c.shim.mu.Lock()
		c.shim.deleted[req.GetId()] = true
		c.shim.mu.Unlock()
	}
	return resp, err
}

func (c *Client) Shutdown(ctx context.Context, req *task.ShutdownRequest) (*emptypb.Empty, error) {
	return c.TaskService.Shutdown(ctx, req)
}

// IsNotFound reports a ttrpc NotFound status.
func IsNotFound(err error) bool { return status.Code(err) == codes.NotFound }

// IsClosedErr reports the errors a client sees when the shim exits while
// answering (Shutdown).
func IsClosedErr(err error) bool {
	return errors.Is(err, ttrpc.ErrClosed) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || strings.Contains(err.Error(), "closed")
}

// deleteSubcommand runs `SHIM ... -id ID -bundle DIR delete` for a task
// whose shim is gone, as containerd does.
func (e *Env) deleteSubcommand(ctx context.Context, id string) {
	e.mu.Lock()
	var dir string
	for _, b := range e.bundles {
		if filepath.Base(b) == id {
			dir = b
		}
	}
	e.mu.Unlock()
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if out := e.Command(ctx, dir, Gen2, 2, nil, id, "-bundle", dir, "delete"); out.Err != nil {
		e.T.Logf("cleanup: %s delete: %s", id, out)
	}
}

// Reconnect drops the ttrpc connection and dials the shim again, as a
// restarted daemon does; the Client keeps working on the new connection.
func (s *Shim) Reconnect(ctx context.Context) error {
	s.conn.Close()
	path := SocketPath(s.Address)
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return fmt.Errorf("redial shim: %w", err)
	}
	s.conn = ttrpc.NewClient(conn)
	if s.Version == 3 {
		s.Client.TaskService = taskv3.NewTaskClient(s.conn)
	} else {
		s.Client.TaskService = task.NewTaskClient(s.conn)
	}
	return nil
}
