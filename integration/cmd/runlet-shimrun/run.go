package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/runlet/runlet/bundle"
	"github.com/runlet/runlet/bundle/bundletest"
	"github.com/runlet/runlet/daemon/shim"
	"github.com/runlet/runlet/fifo"
	task "github.com/runlet/runlet/proto/task/v2"
	"github.com/runlet/runlet/proto/types"
)

const (
	namespace = "runlet-shimrun"
	stateDir  = "/run/runlet-shimrun"
)

// run runs args in a fresh busybox container and returns its exit status.
func run(ctx context.Context, shimPath string, args []string, verbose bool) (int, error) {
	id := "shimrun-" + randomHex(6)
	dir := filepath.Join(stateDir, id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	b, err := newBundle(ctx, dir, id, args)
	if err != nil {
		return 0, err
	}
	defer b.Delete(context.WithoutCancel(ctx))
	events, err := shim.ServeEvents(filepath.Join(dir, "events.sock"), printEvent(verbose))
	if err != nil {
		return 0, err
	}
	defer events.Close(context.WithoutCancel(ctx))
	cfg := shim.Config{
		Binary: shimPath, ID: id, Namespace: namespace, Bundle: b.Path,
		DaemonAddress: filepath.Join(dir, "daemon.sock"), EventsAddress: events.Address, MaxVersion: 3,
		Log: logTo(verbose),
	}
	s, err := shim.Start(ctx, cfg)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	defer s.Task.Shutdown(context.WithoutCancel(ctx), &task.ShutdownRequest{Id: id})
	return runTask(ctx, s.Task, b, dir)
}

func newBundle(ctx context.Context, dir, id string, args []string) (*bundle.Bundle, error) {
	spec := bundle.DefaultSpec(id, bundle.RootfsDir, args)
	spec.Hostname = id
	spec.Linux.CgroupsPath = "/" + id // no parent of ours is left behind
	raw, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	b, err := bundle.New(ctx, dir, namespace, id, raw)
	if err != nil {
		return nil, err
	}
	if err := bundletest.WriteBusyboxRootfs(b.Rootfs()); err != nil {
		b.Delete(ctx)
		return nil, err
	}
	return b, nil
}

// runTask creates, starts and waits for the task with its output copied
// to ours, then deletes it.
func runTask(ctx context.Context, t task.TaskService, b *bundle.Bundle, dir string) (int, error) {
	set, err := fifo.NewSet(filepath.Join(dir, "fifo"), b.ID, false, false)
	if err != nil {
		return 0, err
	}
	defer set.Close()
	copied, err := copyOutput(ctx, set)
	if err != nil {
		return 0, err
	}
	if _, err := t.Create(ctx, &task.CreateTaskRequest{
		Id: b.ID, Bundle: b.Path, Stdout: set.Stdout, Stderr: set.Stderr,
		Rootfs: []*types.Mount{},
	}); err != nil {
		return 0, fmt.Errorf("create: %w", err)
	}
	defer t.Delete(context.WithoutCancel(ctx), &task.DeleteRequest{Id: b.ID})
	if _, err := t.Start(ctx, &task.StartRequest{Id: b.ID}); err != nil {
		return 0, fmt.Errorf("start: %w", err)
	}
	w, err := t.Wait(ctx, &task.WaitRequest{Id: b.ID})
	if err != nil {
		t.Kill(context.WithoutCancel(ctx), &task.KillRequest{Id: b.ID, Signal: 9, All: true})
		return 0, fmt.Errorf("wait: %w", err)
	}
	waitCopies(copied, 5*time.Second)
	return int(w.GetExitStatus()), nil
}

// copyOutput copies the task's stdout and stderr FIFOs to ours.
func copyOutput(ctx context.Context, set *fifo.Set) (<-chan struct{}, error) {
	done := make(chan struct{}, 2)
	for _, s := range []struct {
		path string
		dst  io.Writer
	}{{set.Stdout, os.Stdout}, {set.Stderr, os.Stderr}} {
		r, err := fifo.OpenReader(ctx, s.path)
		if err != nil {
			return nil, err
		}
		go func(r io.ReadCloser, dst io.Writer) {
			io.Copy(dst, r)
			r.Close()
			done <- struct{}{}
		}(r, s.dst)
	}
	return done, nil
}

func waitCopies(done <-chan struct{}, timeout time.Duration) {
	deadline := time.After(timeout)
	for range 2 {
		select {
		case <-done:
		case <-deadline:
			return
		}
	}
}

func logTo(verbose bool) io.Writer {
	if verbose {
		return prefixWriter{os.Stderr}
	}
	return nil
}

type prefixWriter struct{ w io.Writer }

func (p prefixWriter) Write(b []byte) (int, error) { return fmt.Fprintf(p.w, "shim: %s", b) }

func printEvent(verbose bool) shim.EventHandler {
	return func(_ context.Context, env *types.Envelope) error {
		if verbose {
			fmt.Fprintf(os.Stderr, "event: %s %s\n", env.GetTopic(), env.GetEvent().GetTypeUrl())
		}
		return nil
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
