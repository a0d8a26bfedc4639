package shims

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runlet/runlet/bundle"
	"github.com/runlet/runlet/bundle/bundletest"
	"github.com/runlet/runlet/daemon/shim"
	"github.com/runlet/runlet/fifo"
	task "github.com/runlet/runlet/proto/task/v2"
	"github.com/runlet/runlet/proto/types"
)

const reopenAnnotation = "io.runlet.shim/reopen-log"

type harness struct {
	ctx context.Context
	cfg shim.Config
	s   *shim.Shim
	b   *bundle.Bundle
	log string
}

func start(t *testing.T, script string) *harness {
	t.Helper()
	if testing.Short() {
		t.Skip("runs a shim and runc")
	}
	bundletest.RequireRoot(t)
	dir := t.TempDir()
	t.Setenv("RUNLET_SHIM_SOCKET_DIR", filepath.Join(dir, "s"))
	b := bundletest.NewBundle(t, "sh", "-c", script)
	events, err := shim.ServeEvents(filepath.Join(dir, "events.sock"), func(context.Context, *types.Envelope) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { events.Close(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	h := &harness{ctx: ctx, b: b, log: filepath.Join(dir, "logs", "0.log")}
	if err := os.MkdirAll(filepath.Dir(h.log), 0o755); err != nil {
		t.Fatal(err)
	}
	h.cfg = shim.Config{
		Binary: bundletest.ShimBinary(t, "runlet-shim-runc-v2"), ID: b.ID, Namespace: bundletest.Namespace,
		Bundle: b.Path, DaemonAddress: filepath.Join(dir, "d.sock"), EventsAddress: events.Address, MaxVersion: 3,
	}
	if h.s, err = shim.Start(ctx, h.cfg); err != nil {
		t.Fatal(err)
	}
	uri := "crilog://" + h.log
	if _, err := h.s.Task.Create(ctx, &task.CreateTaskRequest{Id: b.ID, Bundle: b.Path, Stdout: uri, Stderr: uri}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.stop)
	if _, err := h.s.Task.Start(ctx, &task.StartRequest{Id: b.ID}); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) stop() {
	ctx := context.Background()
	if s, err := shim.Connect(ctx, h.s.Reply); err == nil { // the test may have closed its connection
		h.s.Close()
		h.s = s
	}
	h.s.Task.Kill(ctx, &task.KillRequest{Id: h.b.ID, Signal: 9})
	h.s.Task.Wait(ctx, &task.WaitRequest{Id: h.b.ID})
	h.s.Task.Delete(ctx, &task.DeleteRequest{Id: h.b.ID})
	h.s.Task.Shutdown(ctx, &task.ShutdownRequest{Id: h.b.ID})
	h.s.Close()
}

func (h *harness) wait(t *testing.T) {
	t.Helper()
	if _, err := h.s.Task.Wait(h.ctx, &task.WaitRequest{Id: h.b.ID}); err != nil {
		t.Fatal(err)
	}
}

// readLog parses a CRI log file into its records.
func readLog(t *testing.T, path string) []fifo.Entry {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var entries []fifo.Entry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		e, err := fifo.ParseLine(sc.Bytes())
		if err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		e.Content = bytes.Clone(e.Content) // it aliases the scanner's buffer
		entries = append(entries, e)
	}
	return entries
}

func TestShimWritesTheCRILogFormatItself(t *testing.T) {
	h := start(t, "echo out1; echo err1 >&2; head -c 20000 /dev/zero | tr '\\0' x; echo; printf tail")
	h.wait(t)
	entries := readLog(t, h.log)
	var stdout, stderr strings.Builder
	partials := 0
	for _, e := range entries {
		b := &stdout
		if string(e.Stream) == "stderr" {
			b = &stderr
		}
		b.Write(e.Content)
		if e.Partial {
			partials++
		} else {
			b.WriteByte('\n')
		}
	}
	want := "out1\n" + strings.Repeat("x", 20000) + "\ntail"
	if stdout.String() != want {
		t.Fatalf("stdout from the log: %d bytes, want %d (%q...)", stdout.Len(), len(want), firstBytes(stdout.String()))
	}
	if stderr.String() != "err1\n" {
		t.Fatalf("stderr from the log: %q", stderr.String())
	}
	if partials != 2 {
		t.Fatalf("%d partial records, want 2 (a 20000-byte line split at 16 KiB, and the unterminated tail)", partials)
	}
}

func TestReopenAfterRotationWritesToTheNewFile(t *testing.T) {
	h := start(t, "echo before; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo after")
	waitForContent(t, h.log, "before")
	if err := os.Rename(h.log, h.log+".1"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.Task.Update(h.ctx, &task.UpdateTaskRequest{Id: h.b.ID, Annotations: map[string]string{reopenAnnotation: "1"}}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.b.Rootfs(), "tmp", "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	h.wait(t)
	if got := readLog(t, h.log); len(got) != 1 || string(got[0].Content) != "after" {
		t.Fatalf("new log holds %v, want only \"after\"", got)
	}
	if got := readLog(t, h.log+".1"); len(got) != 1 || string(got[0].Content) != "before" {
		t.Fatalf("rotated log holds %v, want only \"before\"", got)
	}
}

func TestOutputReachesTheLogWhileNoClientIsConnected(t *testing.T) {
	h := start(t, "while [ ! -e /tmp/go ]; do sleep 0.05; done; head -c 1048576 /dev/zero | tr '\\0' y; echo")
	h.s.Close() // the daemon goes away
	if err := os.WriteFile(filepath.Join(h.b.Rootfs(), "tmp", "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitForContent(t, h.log, strings.Repeat("y", 100))
	s, err := shim.Connect(h.ctx, h.s.Reply) // the daemon comes back
	if err != nil {
		t.Fatal(err)
	}
	h.s = s
	h.wait(t)
	total := 0
	for _, e := range readLog(t, h.log) {
		total += len(e.Content)
	}
	if total != 1<<20 {
		t.Fatalf("log holds %d bytes of output, want %d", total, 1<<20)
	}
}

func waitForContent(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, _ := os.ReadFile(path); bytes.Contains(b, []byte(want)) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never contained %q", path, want)
}

func firstBytes(s string) string {
	if len(s) > 40 {
		return s[:40]
	}
	return s
}
