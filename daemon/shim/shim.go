package shim

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
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
	// closedHere is set by Close before the connection ends, so that an
	// end we caused is not taken for the shim's.
	closedHere atomic.Bool
}

// Start runs `start` for cfg's task and connects to the shim it names
// (a new server, or the live one of the task's group). As containerd
// does, it first makes the bundle's `log` FIFO and reads it (containerd's
// shims exit without one), copying lines to cfg.Log until the connection
// to the shim ends.
func Start(ctx context.Context, cfg Config) (*Shim, error) {
	logCtx, stopLog := context.WithCancel(context.WithoutCancel(ctx))
	log, err := OpenLog(logCtx, cfg.Bundle)
	if err != nil {
		stopLog()
		return nil, err
	}
	go CopyLog(log, logWriter(cfg))
	reply, err := startCommand(ctx, cfg)
	if err == nil {
		var s *Shim
		if s, err = Connect(ctx, reply); err == nil {
			go func() { <-s.Done(); stopLog(); log.Close() }()
			return s, nil
		}
	}
	stopLog()
	log.Close()
	return nil, err
}

func logWriter(cfg Config) io.Writer {
	if cfg.Log == nil {
		return io.Discard
	}
	return cfg.Log
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
	var t taskv2.TaskService = taskv2.NewTaskClient(client)
	if r.Version == 3 {
		t = taskv3.NewTaskClient(client)
	}
	return &Shim{Reply: r, client: client, done: done, Task: nativeErrors{t}}, nil
}

// Close closes the connection; the shim keeps serving.
func (s *Shim) Close() error {
	s.closedHere.Store(true)
	return s.client.Close()
}

// Done is closed when the connection to the shim ends: the shim died or
// shut down, or Close was called (ClosedHere tells which).
func (s *Shim) Done() <-chan struct{} { return s.done }

// ClosedHere reports whether the connection ended because Close was
// called: the shim itself may well still be serving.
func (s *Shim) ClosedHere() bool { return s.closedHere.Load() }

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
