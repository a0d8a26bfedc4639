package oci

import (
	"context"
	"log/slog"
	"time"

	runc "github.com/containerd/go-runc"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/runlet/runlet/proto/events"
)

// drainTimeout bounds how long an exit waits for output still in flight;
// draining normally ends as soon as the pipes are empty.
const drainTimeout = 5 * time.Second

// onExit records an exit and reports it, in the order the protocol needs:
// after the start event, after the output is drained, and for an init
// process after the exits of its execs.
func (s *Service) onExit(p *process, e runc.Exit) {
	p.waitStarted(s.ctx)
	if p.isInit() {
		s.killOrphans(p.c)
		s.stopExecs(p.c)
	}
	ctx, cancel := context.WithTimeout(s.ctx, drainTimeout)
	p.drainIO(ctx)
	cancel()
	p.mu.Lock()
	p.state, p.exitStatus, p.exitedAt = stopped, e.Status, e.Timestamp
	p.mu.Unlock()
	p.closePidfd()
	if p.isInit() {
		_ = p.c.awaitCgroup(s.ctx)
		s.oom.remove(p.c.id)
	}
	s.publish(TopicTaskExit, &events.TaskExit{
		ContainerId: p.c.id,
		Id:          p.publicID(),
		Pid:         uint32(e.Pid),
		ExitStatus:  uint32(e.Status),
		ExitedAt:    timestamppb.New(e.Timestamp),
	})
	close(p.exited)
}

// killOrphans kills what is left in the cgroup of a container without a
// pid namespace of its own once its init has exited, as containerd does:
// nobody else would, and the container counts as exited.
func (s *Service) killOrphans(c *container) {
	if !c.sharedPidNS {
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, drainTimeout)
	defer cancel()
	if err := c.runtime.Kill(ctx, c.id, int(unix.SIGKILL), &runc.KillOpts{All: true}); err != nil && !isNotRunning(err) {
		slog.Warn("kill the processes left after the init's exit", "id", c.id, "error", runtimeError(c.bundle, "kill", err))
	}
}

// stopExecs kills the execs that outlive their init process (they survive
// it in a shared pid namespace) and waits until each exit is reported.
func (s *Service) stopExecs(c *container) {
	for _, x := range c.liveExecs() {
		if pid := x.getPid(); pid > 0 {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
		_ = x.wait(s.ctx)
	}
}

// publicID is the id events carry: the exec id, or the container id for
// the init process.
func (p *process) publicID() string {
	if p.isInit() {
		return p.c.id
	}
	return p.execID
}
