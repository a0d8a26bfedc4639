package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/runlet/runlet/integration/internal/shimtest"
	task "github.com/runlet/runlet/proto/task/v2"
)

func init() {
	register("bootstrap",
		check{"Gen1NoMaxVersionRepliesRawAddressAndServesTaskV2", bootGen1},
		check{"Gen2MaxVersion2RepliesVersion2AndServesTaskV2", bootGen2v2},
		check{"Gen2MaxVersion3RepliesVersion3AndServesTaskV3", bootGen2v3},
		check{"Gen3BootstrapParamsRepliesBootstrapResult", bootGen3},
		check{"NoRuntimeOptionsUsesDefaultRoot", bootNoOptions},
		check{"SecondStartForSameIDPrintsSameAddress", bootSecondStart},
		check{"SocketIsFilesystemUnixSocket", bootSocket},
		check{"DebugFlagIsAccepted", bootDebug},
	)
}

// bootRun starts a shim in a generation and proves the address serves a
// whole task life (create, start, wait, delete) over the task API version
// the reply announced, with the runtime options honoured (the task's state
// is in the root the options name).
func bootRun(t T, x *tx, req shimtest.StartRequest) *shimtest.Started {
	t.Helper()
	st, err := x.Start(x.ctx, req)
	if err != nil {
		t.Fatalf("start (generation %d): %v", req.Gen, err)
	}
	t.Logf("generation %d reply: %s version %d address %s protocol %q", req.Gen, st.Reply.Format, st.Reply.Version, st.Reply.Address, st.Reply.Protocol)
	if st.Reply.Protocol != "ttrpc" {
		t.Errorf("protocol %q, want ttrpc", st.Reply.Protocol)
	}
	return st
}

// bootTask runs a short task through a started shim; it checks the runtime
// state lands in root/<namespace> while the task exists.
func bootTask(t T, x *tx, s *shimtest.Shim, b *shimtest.Bundle, root string) {
	t.Helper()
	io := x.NewStdio(shimtest.StdioOptions{Stdin: true})
	x.create(s, b, io)
	if root != "" {
		ids, err := shimtest.RuntimeList(x.within(time.Minute), x.Target.Runtime, root+"/"+x.Namespace)
		if err != nil {
			t.Error(err)
		}
		if !slices.Contains(ids, b.ID) {
			t.Errorf("runtime state of %s not in %s/%s (the runtime options were not honoured): %v", b.ID, root, x.Namespace, ids)
		}
	}
	x.startTask(s, b.ID, "")
	if err := io.Write(x.within(time.Minute), []byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	x.output(io.Out, "stdout", "pong ping")
	if w := x.wait(s, b.ID, ""); w.GetExitStatus() != 0 {
		t.Errorf("exit status %d, want 0", w.GetExitStatus())
	}
	x.deleteTask(s, b.ID, "")
}

var echoArgs = []string{"sh", "-c", "read x; echo pong $x"}

func bootGen1(t T, x *tx) {
	b := x.bundle(echoArgs...)
	st := bootRun(t, x, shimtest.StartRequest{ID: b.ID, Bundle: b.Path, Gen: shimtest.Gen1, Options: x.Options()})
	if st.Reply.Format != shimtest.ReplyRaw {
		t.Errorf("reply is %s (%q); a daemon that sets no MAX_SHIM_VERSION (containerd <= 1.6) reads only a raw address", st.Reply.Format, st.Output.Stdout)
	}
	if st.Shim.Version != 2 {
		t.Fatalf("task API version %d without MAX_SHIM_VERSION, want 2", st.Shim.Version)
	}
	bootTask(t, x, st.Shim, b, x.RuntimeRoot)
}

func bootGen2v2(t T, x *tx) {
	b := x.bundle(echoArgs...)
	st := bootRun(t, x, shimtest.StartRequest{ID: b.ID, Bundle: b.Path, Gen: shimtest.Gen2, MaxVersion: 2, Options: x.Options()})
	if st.Reply.Format == shimtest.ReplyProto {
		t.Errorf("reply is a protobuf BootstrapResult but the daemon sent no BootstrapParams")
	}
	if st.Reply.Version != 2 {
		t.Fatalf("reply version %d with MAX_SHIM_VERSION=2, want 2", st.Reply.Version)
	}
	bootTask(t, x, st.Shim, b, x.RuntimeRoot)
}

func bootGen2v3(t T, x *tx) {
	claimed := x.s.cfg.require(t, TaskV3)
	b := x.bundle(echoArgs...)
	st := bootRun(t, x, shimtest.StartRequest{ID: b.ID, Bundle: b.Path, Gen: shimtest.Gen2, MaxVersion: 3, Options: x.Options()})
	if st.Reply.Version != 3 {
		if !claimed && st.Reply.Version == 2 {
			// Serve the task anyway, so a v2-only shim is still exercised.
			bootTask(t, x, st.Shim, b, x.RuntimeRoot)
			t.Skipf("probe: shim replied version 2 (%s) to MAX_SHIM_VERSION=3: it serves only task v2", st.Reply.Format)
		}
		t.Fatalf("reply version %d (%s %q) with MAX_SHIM_VERSION=3, want 3", st.Reply.Version, st.Reply.Format, st.Output.Stdout)
	}
	if st.Reply.Format != shimtest.ReplyJSON {
		t.Errorf("version 3 reply is %s, want JSON", st.Reply.Format)
	}
	bootTask(t, x, st.Shim, b, x.RuntimeRoot)
}

func bootGen3(t T, x *tx) {
	claimed := x.s.cfg.require(t, BootstrapV3)
	b := x.bundle(echoArgs...)
	st, err := x.Start(x.ctx, shimtest.StartRequest{ID: b.ID, Bundle: b.Path, Gen: shimtest.Gen3, Options: x.Options()})
	if !claimed && (err != nil || st.Reply.Format != shimtest.ReplyProto) {
		if st != nil && st.Shim != nil {
			bootTask(t, x, st.Shim, b, "")
		}
		if err == nil {
			err = fmt.Errorf("reply is %s %q", st.Reply.Format, st.Output.Stdout)
		}
		t.Skipf("probe: shim does not speak bootstrap v3: %v", err)
	}
	if err != nil {
		t.Fatalf("start with BootstrapParams: %v", err)
	}
	if st.Reply.Format != shimtest.ReplyProto {
		t.Errorf("reply to BootstrapParams is %s (%q), want a protobuf BootstrapResult", st.Reply.Format, st.Output.Stdout)
	}
	if v := st.Reply.Version; v != 2 && v != 3 {
		t.Fatalf("BootstrapResult version %d, want 2 or 3", v)
	}
	if st.Reply.Protocol != "ttrpc" {
		t.Errorf("BootstrapResult protocol %q, want ttrpc", st.Reply.Protocol)
	}
	// The options travel as an extension; the root they name must be used.
	bootTask(t, x, st.Shim, b, x.RuntimeRoot)
}

// bootNoOptions: a daemon that sends no options at all (empty stdin, no
// Create options) gets the shim's default runtime root.
func bootNoOptions(t T, x *tx) {
	if x.Target.DefaultRoot == "" {
		t.Skip("Config.DefaultRoot not set: the shim's default runtime root is unknown")
	}
	b := x.bundle(echoArgs...)
	st := bootRun(t, x, shimtest.StartRequest{ID: b.ID, Bundle: b.Path, Gen: shimtest.Gen2, MaxVersion: 2})
	s := st.Shim
	io := x.NewStdio(shimtest.StdioOptions{Stdin: true})
	req := x.createReq(b, io, false)
	req.Options = nil
	if _, err := s.Client.Create(x.within(time.Minute), req); err != nil {
		t.Fatalf("Create without options: %v", err)
	}
	root := x.Target.DefaultRoot + "/" + x.Namespace
	ids, err := shimtest.RuntimeList(x.within(time.Minute), x.Target.Runtime, root)
	if err != nil {
		t.Error(err)
	}
	if !slices.Contains(ids, b.ID) {
		t.Errorf("runtime state of %s not in the default root %s: %v", b.ID, root, ids)
	}
	x.startTask(s, b.ID, "")
	if err := io.Write(x.within(time.Minute), []byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	x.output(io.Out, "stdout", "pong ping")
	x.wait(s, b.ID, "")
	x.deleteTask(s, b.ID, "")
}

func bootSecondStart(t T, x *tx) {
	b := x.bundle("sleep", "3600")
	first := bootRun(t, x, shimtest.StartRequest{ID: b.ID, Bundle: b.Path, Gen: shimtest.Gen2, MaxVersion: 2, Options: x.Options()})
	second := bootRun(t, x, shimtest.StartRequest{ID: b.ID, Bundle: b.Path, Gen: shimtest.Gen2, MaxVersion: 2, Options: x.Options()})
	if first.Reply.Address != second.Reply.Address {
		t.Errorf("second start printed %s, first %s", second.Reply.Address, first.Reply.Address)
	}
}

func bootSocket(t T, x *tx) {
	b := x.bundle("true")
	st := bootRun(t, x, shimtest.StartRequest{ID: b.ID, Bundle: b.Path, Gen: shimtest.Gen2, MaxVersion: 2, Options: x.Options()})
	path := shimtest.SocketPath(st.Reply.Address)
	if path == "" || strings.HasPrefix(strings.TrimPrefix(st.Reply.Address, "unix://"), "@") {
		t.Fatalf("address %q is not a filesystem socket (abstract sockets are reachable from other network namespaces: CVE-2020-15257)", st.Reply.Address)
	}
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("%s is not a socket: %v %v", path, fi, err)
	}
	if dir, err := os.Stat(filepath.Dir(path)); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm()&0o077 != 0 && dir.Mode().Perm()&0o077 != 0 {
		t.Errorf("socket %s mode %v in a directory mode %v: reachable by other users", path, fi.Mode().Perm(), dir.Mode().Perm())
	}
	// Connect answers with the serving process: the pid the harness learned.
	resp, err := st.Shim.Client.Connect(x.within(time.Minute), &task.ConnectRequest{Id: b.ID})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if int(resp.GetShimPid()) != st.Shim.Pid || !st.Shim.Alive() {
		t.Errorf("Connect shim_pid %d, process alive %v", resp.GetShimPid(), st.Shim.Alive())
	}
}

// bootDebug: containerd adds -debug when its own log level is debug; the
// shim must start and serve as usual.
func bootDebug(t T, x *tx) {
	b := x.bundle(echoArgs...)
	st := bootRun(t, x, shimtest.StartRequest{ID: b.ID, Bundle: b.Path, Gen: shimtest.Gen2, MaxVersion: 2, Options: x.Options(), Debug: true})
	bootTask(t, x, st.Shim, b, x.RuntimeRoot)
}
