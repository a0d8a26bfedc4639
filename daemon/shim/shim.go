package shim

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/containerd/ttrpc"
	"google.golang.org/protobuf/proto"

	taskv2 "github.com/runlet/runlet/proto/task/v2"
	taskv3 "github.com/runlet/runlet/proto/task/v3"
)

const dialTimeout = 5 * time.Second

// Shim is a connection to a serving shim.
type Shim struct {
	Reply
	// Task is the task service, under the name the shim's API version uses.
	Task   taskv2.TaskService
	client *ttrpc.Client
	done   chan struct{}
}

// Start runs `start` for cfg's task and connects to the shim it names
// (a new server, or the live one of the task's group).
func Start(ctx context.Context, cfg Config) (*Shim, error) {
	reply, err := startCommand(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return Connect(ctx, reply)
}

// Connect dials a shim at a known address (after a daemon restart).
func Connect(ctx context.Context, r Reply) (*Shim, error) {
	r, err := checkReply(r)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "unix", strings.TrimPrefix(r.Address, "unix://"))
	if err != nil {
		return nil, fmt.Errorf("connect to shim at %s: %w", r.Address, err)
	}
	done := make(chan struct{})
	client := ttrpc.NewClient(conn, ttrpc.WithOnClose(func() { close(done) }))
	s := &Shim{Reply: r, client: client, done: done, Task: taskv2.NewTaskClient(client)}
	if r.Version == 3 {
		s.Task = taskv3.NewTaskClient(client)
	}
	return s, nil
}

// Close closes the connection; the shim keeps serving.
func (s *Shim) Close() error { return s.client.Close() }

// Done is closed when the connection to the shim is lost (the shim died
// or shut down).
func (s *Shim) Done() <-chan struct{} { return s.done }

// Delete runs `delete` for cfg's task, the cleanup of a task whose shim is
// gone, and returns how the task ended.
func Delete(ctx context.Context, cfg Config) (*taskv2.DeleteResponse, error) {
	out, err := run(ctx, cfg, nil, "delete", "-bundle", cfg.Bundle)
	if err != nil {
		return nil, err
	}
	var resp taskv2.DeleteResponse
	if err := proto.Unmarshal(out, &resp); err != nil {
		return nil, fmt.Errorf("shim %s delete: bad reply: %w", cfg.Binary, err)
	}
	return &resp, nil
}
