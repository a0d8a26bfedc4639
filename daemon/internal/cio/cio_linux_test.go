package cio

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runlet/runlet/bundle/bundletest"
	"github.com/runlet/runlet/daemon/shim"
	"github.com/runlet/runlet/fifo"
	task "github.com/runlet/runlet/proto/task/v2"
	"github.com/runlet/runlet/proto/types"
)

func TestShimWrittenLogIsNamedAsCRILogURIs(t *testing.T) {
	dir := t.TempDir()
	c, err := New(context.Background(), Options{ID: "c1", FIFODir: filepath.Join(dir, "fifo"), LogPath: "/var/log/pods/p/c/0.log", ShimWritesLog: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.Stdout != "crilog:///var/log/pods/p/c/0.log" || c.Stderr != c.Stdout || c.Stdin != "" {
		t.Fatalf("stdin %q stdout %q stderr %q", c.Stdin, c.Stdout, c.Stderr)
	}
	if c.Attachable() {
		t.Fatal("a shim-written container without stdin or terminal claims to be attachable")
	}
	if err := c.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("files made for a shim-written log: %v", entries)
	}
}

// TestStdinOrTerminalKeepsTheOutputWithTheDaemon: attach needs the output,
// so such containers get FIFOs even from a shim that writes CRI logs.
func TestStdinOrTerminalKeepsTheOutputWithTheDaemon(t *testing.T) {
	for _, o := range []Options{{Stdin: true}, {Terminal: true}} {
		dir := t.TempDir()
		o.ID, o.FIFODir, o.LogPath, o.ShimWritesLog = "c1", filepath.Join(dir, "fifo"), filepath.Join(dir, "0.log"), true
		c, err := New(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(c.Stdout, CRILogScheme) || !c.Attachable() {
			t.Fatalf("stdin %v terminal %v: stdout %q, attachable %v", o.Stdin, o.Terminal, c.Stdout, c.Attachable())
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(c.Stdout); !os.IsNotExist(err) {
			t.Fatalf("stdout FIFO left after Close: %v", err)
		}
	}
}

// TestDaemonCopiesAThirdPartyShimsOutputIntoTheCRILog runs containerd's
// own shim, which only knows FIFOs, and checks the log runletd writes.
func TestDaemonCopiesAThirdPartyShimsOutputIntoTheCRILog(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a shim and runc")
	}
	bundletest.RequireRoot(t)
	binary := "/usr/bin/containerd-shim-runc-v2"
	if _, err := os.Stat(binary); err != nil {
		binary = bundletest.ShimBinary(t, "runlet-shim-runc-v2") // FIFO mode works for ours too
	}
	dir := t.TempDir()
	b := bundletest.NewBundle(t, "sh", "-c", "echo one; echo two >&2; printf three")
	logPath := filepath.Join(dir, "0.log")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := New(ctx, Options{ID: b.ID, FIFODir: filepath.Join(dir, "fifo"), LogPath: logPath})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	events, err := shim.ServeEvents(filepath.Join(dir, "ev.sock"), func(context.Context, *types.Envelope) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer events.Close(ctx)
	s, err := shim.Start(ctx, shim.Config{Binary: binary, ID: b.ID, Namespace: bundletest.Namespace, Bundle: b.Path,
		DaemonAddress: filepath.Join(dir, "d.sock"), EventsAddress: events.Address,
		Env: []string{"RUNLET_SHIM_SOCKET_DIR=" + filepath.Join(dir, "s")}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	defer s.Task.Shutdown(context.Background(), &task.ShutdownRequest{Id: b.ID})
	if _, err := s.Task.Create(ctx, &task.CreateTaskRequest{Id: b.ID, Bundle: b.Path, Stdout: c.Stdout, Stderr: c.Stderr}); err != nil {
		t.Fatal(err)
	}
	defer s.Task.Delete(context.Background(), &task.DeleteRequest{Id: b.ID})
	if _, err := s.Task.Start(ctx, &task.StartRequest{Id: b.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Task.Wait(ctx, &task.WaitRequest{Id: b.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Task.Delete(ctx, &task.DeleteRequest{Id: b.ID}); err != nil {
		t.Fatal(err)
	}
	if err := c.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	data, _ := os.ReadFile(logPath)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		e, err := fifo.ParseLine(sc.Bytes())
		if err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		tag := "F"
		if e.Partial {
			tag = "P"
		}
		got[string(e.Stream)] += tag + ":" + string(e.Content) + ";"
	}
	if got["stdout"] != "F:one;P:three;" || got["stderr"] != "F:two;" {
		t.Fatalf("log records %v\n%s", got, strings.TrimSpace(string(data)))
	}
}
