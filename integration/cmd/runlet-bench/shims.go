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
	"sort"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/runlet/runlet/bundle"
	"github.com/runlet/runlet/bundle/bundletest"
	"github.com/runlet/runlet/daemon/shim"
	"github.com/runlet/runlet/proto/runc/options"
	task "github.com/runlet/runlet/proto/task/v2"
	"github.com/runlet/runlet/proto/types"
)

const namespace = "runlet-bench"

type benchShim struct{ name, path, runtime string }

// options are the runtime options naming the shim's runtime binary.
func (s benchShim) options() *anypb.Any {
	if s.runtime == "" {
		return nil
	}
	b, _ := proto.Marshal(&options.Options{BinaryName: s.runtime})
	return &anypb.Any{TypeUrl: "containerd.runc.v1.Options", Value: b}
}

// phases are the measured steps, in table order.
var phases = []string{"start", "create", "start task", "exec", "kill", "delete"}

// env holds what every measurement shares: a state dir, one busybox
// rootfs and the events socket.
type env struct {
	dir    string
	rootfs string
	events *shim.EventsServer
}

func benchShims(ctx context.Context, shims []benchShim, runs int, out io.Writer) error {
	e, err := newEnv(ctx)
	if err != nil {
		return err
	}
	defer e.close(ctx)
	results := map[string]map[string][]time.Duration{}
	for _, s := range shims {
		results[s.name] = map[string][]time.Duration{}
	}
	// Runs alternate between the shims, so whatever else the machine does
	// weighs on each of them alike.
	for i := 0; i < runs; i++ {
		for _, s := range shims {
			if err := e.lifecycle(ctx, s, results[s.name]); err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
		}
	}
	memory := map[string]string{}
	for _, s := range shims {
		mem, err := e.podMemory(ctx, s)
		if err != nil {
			return fmt.Errorf("%s memory: %w", s.name, err)
		}
		memory[s.name] = mem
	}
	printTable(out, shims, runs, results, memory)
	return nil
}

func newEnv(ctx context.Context) (*env, error) {
	dir, err := os.MkdirTemp("", "runlet-bench-")
	if err != nil {
		return nil, err
	}
	e := &env{dir: dir, rootfs: filepath.Join(dir, "rootfs")}
	if err := os.Mkdir(e.rootfs, 0o755); err != nil {
		return nil, err
	}
	if err := bundletest.WriteBusyboxRootfs(e.rootfs); err != nil {
		return nil, err
	}
	if err := bundle.EnsureHugetlbV1(ctx); err != nil {
		return nil, err
	}
	e.events, err = shim.ServeEvents(filepath.Join(dir, "events.sock"), func(context.Context, *types.Envelope) error { return nil })
	return e, err
}

func (e *env) close(ctx context.Context) {
	e.events.Close(context.WithoutCancel(ctx))
	bundletest.RemoveBusyboxRootfs(context.WithoutCancel(ctx), e.rootfs)
	os.RemoveAll(e.dir)
}

// newBundle writes a bundle running args on the shared rootfs, in the
// shim group of group.
func (e *env) newBundle(ctx context.Context, group string, args ...string) (*bundle.Bundle, error) {
	id := "bench-" + randomHex(6)
	spec := bundle.DefaultSpec(id, e.rootfs, args)
	spec.Root.Readonly = true
	spec.Linux.CgroupsPath = "/" + id
	spec.Annotations = map[string]string{"io.kubernetes.cri.sandbox-id": group}
	raw, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	return bundle.New(ctx, filepath.Join(e.dir, "bundles"), namespace, id, raw)
}

func (e *env) config(s benchShim, b *bundle.Bundle) shim.Config {
	return shim.Config{
		Binary: s.path, ID: b.ID, Namespace: namespace, Bundle: b.Path,
		DaemonAddress: filepath.Join(e.dir, "daemon.sock"), EventsAddress: e.events.Address, MaxVersion: 3,
		Options: s.options(),
	}
}

// lifecycle measures one shim start and one task's lifecycle with an exec.
func (e *env) lifecycle(ctx context.Context, s benchShim, res map[string][]time.Duration) error {
	b, err := e.newBundle(ctx, "", "sleep", "300")
	if err != nil {
		return err
	}
	defer b.Delete(context.WithoutCancel(ctx))
	t0 := time.Now()
	sh, err := shim.Start(ctx, e.config(s, b))
	if err != nil {
		return err
	}
	defer sh.Close()
	if _, err := sh.Task.Connect(ctx, &task.ConnectRequest{Id: b.ID}); err != nil {
		return err
	}
	res["start"] = append(res["start"], time.Since(t0))
	defer sh.Task.Shutdown(context.WithoutCancel(ctx), &task.ShutdownRequest{Id: b.ID})
	return timeTask(ctx, sh.Task, b, s.options(), res)
}

func timeTask(ctx context.Context, t task.TaskService, b *bundle.Bundle, opts *anypb.Any, res map[string][]time.Duration) error {
	steps := []struct {
		phase string
		do    func() error
	}{
		{"create", func() error {
			_, err := t.Create(ctx, &task.CreateTaskRequest{Id: b.ID, Bundle: b.Path, Options: opts})
			return err
		}},
		{"start task", func() error { _, err := t.Start(ctx, &task.StartRequest{Id: b.ID}); return err }},
		{"exec", func() error { return execTrue(ctx, t, b.ID) }},
		{"kill", func() error { return killAndWait(ctx, t, b.ID) }},
		{"delete", func() error { _, err := t.Delete(ctx, &task.DeleteRequest{Id: b.ID}); return err }},
	}
	for _, s := range steps {
		t0 := time.Now()
		if err := s.do(); err != nil {
			return fmt.Errorf("%s: %w", s.phase, err)
		}
		res[s.phase] = append(res[s.phase], time.Since(t0))
	}
	return nil
}

// execTrue runs `true` in the task: Exec, Start, Wait, Delete.
func execTrue(ctx context.Context, t task.TaskService, id string) error {
	spec, _ := json.Marshal(map[string]any{"args": []string{"true"}, "cwd": "/", "env": []string{"PATH=/bin"}})
	req := &task.ExecProcessRequest{Id: id, ExecId: "x", Spec: processAny(spec)}
	if _, err := t.Exec(ctx, req); err != nil {
		return err
	}
	if _, err := t.Start(ctx, &task.StartRequest{Id: id, ExecId: "x"}); err != nil {
		return err
	}
	if _, err := t.Wait(ctx, &task.WaitRequest{Id: id, ExecId: "x"}); err != nil {
		return err
	}
	_, err := t.Delete(ctx, &task.DeleteRequest{Id: id, ExecId: "x"})
	return err
}

func killAndWait(ctx context.Context, t task.TaskService, id string) error {
	if _, err := t.Kill(ctx, &task.KillRequest{Id: id, Signal: 9}); err != nil {
		return err
	}
	_, err := t.Wait(ctx, &task.WaitRequest{Id: id})
	return err
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
