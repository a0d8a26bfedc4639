package runtime

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/containerd/ttrpc"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/integration/internal/daemontest"
	task "github.com/runlet/runlet/proto/task/v2"
)

// kubeletMaxMsgSize is the CRI message limit of kubelet's and crictl's
// client (k8s.io/cri-client).
const kubeletMaxMsgSize = 16 << 20

// execSyncOutputLimit is runletd's documented ExecSync limit: stdout and
// stderr together.
const execSyncOutputLimit = kubeletMaxMsgSize - 1<<10

// kubeletClient is a RuntimeService client with kubelet's message limit
// (grpc's default is 4 MiB).
func (f *fixture) kubeletClient(t *testing.T) runtimeapi.RuntimeServiceClient {
	t.Helper()
	conn, err := grpc.NewClient("unix://"+f.Sock, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(kubeletMaxMsgSize)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return runtimeapi.NewRuntimeServiceClient(conn)
}

func TestExecSyncOutputBeyondTheLimitIsTruncatedAndTheReplyFitsKubeletsLimit(t *testing.T) {
	f := startWithBusybox(t)
	kubelet := f.kubeletClient(t)
	for i, h := range f.handlers {
		pod, ctr := f.run(t, []string{"bigrunc", "bigcrun", "bigctrd"}[i], h, "sleep 1000")
		// 20 MiB on stdout, then 20 MiB on stderr: 40 MiB, 2.5 times the limit.
		script := "(dd if=/dev/zero bs=1048576 count=20 2>/dev/null); (dd if=/dev/zero bs=1048576 count=20 2>/dev/null) >&2; exit 5"
		res, err := kubelet.ExecSync(daemontest.Ctx(t), execReq(ctr, 60, "sh", "-c", script))
		if err != nil {
			t.Fatalf("%s: ExecSync of 40 MiB: %v", h, err)
		}
		if res.ExitCode != 5 {
			t.Fatalf("%s: exit code %d, want 5", h, res.ExitCode)
		}
		if got := len(res.Stdout) + len(res.Stderr); got != execSyncOutputLimit {
			t.Fatalf("%s: %d bytes of output (stdout %d, stderr %d), want the limit %d", h, got, len(res.Stdout), len(res.Stderr), execSyncOutputLimit)
		}
		if bytes.ContainsFunc(res.Stdout, func(r rune) bool { return r != 0 }) || bytes.ContainsFunc(res.Stderr, func(r rune) bool { return r != 0 }) {
			t.Fatalf("%s: the output is not the command's", h)
		}
		f.MustCrictl(t, "rmp", "-f", pod)
	}
	f.assertNothingLeft(t)
}

func TestExecSyncPastItsTimeoutOrCancelledKillsTheProcessAndLeavesNoExecInTheShim(t *testing.T) {
	f := startWithBusybox(t)
	for i, h := range f.handlers {
		name := []string{"xrunc", "xcrun", "xctrd"}[i]
		sig := filepath.Join(f.Dir, name+"-sig")
		for _, p := range []string{"", "never", "ready"} {
			if p == "" {
				mkdir(t, sig)
			} else if err := unix.Mkfifo(filepath.Join(sig, p), 0o666); err != nil {
				t.Fatal(err)
			}
		}
		pod := f.runp(t, name, h)
		cfg := f.containerConfigWith(t, name, map[string]any{"command": []string{"sleep", "1000"},
			"mounts": []map[string]any{{"container_path": "/sig", "host_path": sig}}})
		ctr := strings.TrimSpace(f.MustCrictl(t, "create", pod, cfg, filepath.Join(f.Dir, name+"-pod.json")))
		f.MustCrictl(t, "start", ctr)
		shim := f.shimTasks(t, pod)
		bundle := f.bundleOf(t, ctr)
		if _, err := f.Runtime.ExecSync(daemontest.Ctx(t), execReq(ctr, 10, "true")); err != nil {
			t.Fatalf("%s: ExecSync: %v", h, err) // makes runletd's fifo directory, watched below
		}
		execs := watchExecIDs(t, filepath.Join(f.State, "fifo"))

		// Ended normally: deleted.
		if _, err := f.Runtime.ExecSync(daemontest.Ctx(t), execReq(ctr, 10, "true")); err != nil {
			t.Fatalf("%s: ExecSync: %v", h, err)
		}
		id := execs.next(t)
		assertNoExec(t, shim, ctr, id)
		if _, err := os.Stat(filepath.Join(bundle, id+".pid")); !os.IsNotExist(err) {
			t.Fatalf("%s: a deleted exec left its pid file in the bundle: %v", h, err)
		}

		// Past its timeout: killed, waited for and deleted before the reply.
		marker := "never-" + randomHex(4) // an argument of the exec's cat, to find it
		_, err := f.Runtime.ExecSync(daemontest.Ctx(t), execReq(ctr, 1, "sh", "-c", "exec cat /sig/never /"+marker))
		if status.Code(err) != codes.DeadlineExceeded {
			t.Fatalf("%s: ExecSync past its timeout: %v, want DeadlineExceeded", h, err)
		}
		if pids := pidsRunning(marker); len(pids) != 0 {
			t.Fatalf("%s: the timed-out exec still runs: %v", h, pids)
		}
		assertNoExec(t, shim, ctr, execs.next(t))

		// Cancelled by its caller: the process is killed, then deleted.
		marker = "hold-" + randomHex(4)
		ctx, cancel := context.WithCancel(daemontest.Ctx(t))
		done := make(chan error, 1)
		go func() {
			_, err := f.Runtime.ExecSync(ctx, execReq(ctr, 0, "sh", "-c", "echo ready > /sig/ready; exec cat /sig/never /"+marker))
			done <- err
		}()
		awaitLine(t, filepath.Join(sig, "ready"), done)
		pids := pidsRunning(marker)
		if len(pids) != 1 {
			out, _ := exec.Command("ps", "-eo", "pid,stat,args").Output()
			t.Fatalf("%s: exec processes %v, want one\n%s", h, pids, out)
		}
		exited := pidfd(t, atoi(pids[0]))
		cancel()
		if err := <-done; status.Code(err) != codes.Canceled {
			t.Fatalf("%s: cancelled ExecSync: %v", h, err)
		}
		awaitExit(t, exited)
		id = execs.next(t)
		daemontest.WaitFor(t, 20*time.Second, "the cancelled exec's deletion from the shim", func() bool {
			_, err := shim.State(daemontest.Ctx(t), &task.StateRequest{Id: ctr, ExecId: id})
			return status.Code(err) == codes.NotFound
		})
		f.MustCrictl(t, "rmp", "-f", pod)
	}
	f.assertNothingLeft(t)
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

// shimTasks is a task client on the shim serving a pod.
func (f *fixture) shimTasks(t *testing.T, pod string) task.TaskService {
	t.Helper()
	_, info := f.inspectp(t, pod)
	addr, _ := info["shimAddress"].(string)
	conn, err := net.Dial("unix", strings.TrimPrefix(addr, "unix://"))
	if err != nil {
		t.Fatalf("dial the pod's shim at %q: %v", addr, err)
	}
	c := ttrpc.NewClient(conn)
	t.Cleanup(func() { c.Close() })
	return task.NewTaskClient(c)
}

// bundleOf is a container's bundle directory, from verbose status.
func (f *fixture) bundleOf(t *testing.T, ctr string) string {
	t.Helper()
	resp, err := f.Runtime.ContainerStatus(daemontest.Ctx(t), &runtimeapi.ContainerStatusRequest{ContainerId: ctr, Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		Bundle string `json:"bundle"`
	}
	if err := json.Unmarshal([]byte(resp.GetInfo()["info"]), &info); err != nil || info.Bundle == "" {
		t.Fatalf("verbose status of %s names no bundle: %v %v", ctr, resp.GetInfo(), err)
	}
	return info.Bundle
}

// assertNoExec checks the shim holds no exec execID in container ctr.
func assertNoExec(t *testing.T, shim task.TaskService, ctr, execID string) {
	t.Helper()
	st, err := shim.State(daemontest.Ctx(t), &task.StateRequest{Id: ctr, ExecId: execID})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("the shim still holds exec %s: %v %v", execID, st, err)
	}
}

// execIDs reports the ids of the execs runletd starts: each gets a FIFO
// directory named by its 32-character id under state/fifo.
type execIDs struct {
	fd      int
	pending []string
}

func watchExecIDs(t *testing.T, dir string) *execIDs {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CREATE|unix.IN_ONLYDIR); err != nil {
		t.Fatal(err)
	}
	return &execIDs{fd: fd}
}

// next is the id of the next exec started since the last call; runletd
// has made its directory before the exec's call returns.
func (w *execIDs) next(t *testing.T) string {
	t.Helper()
	buf := make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
	for len(w.pending) == 0 {
		n, err := unix.Read(w.fd, buf)
		if err != nil {
			t.Fatalf("no exec directory was made: %v", err)
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := string(bytes.TrimRight(buf[off+unix.SizeofInotifyEvent:off+unix.SizeofInotifyEvent+int(ev.Len)], "\x00"))
			off += unix.SizeofInotifyEvent + int(ev.Len)
			if len(name) == 32 {
				w.pending = append(w.pending, name)
			}
		}
	}
	id := w.pending[0]
	w.pending = w.pending[1:]
	return id
}

// awaitLine waits for a line on a FIFO, or fails when the call feeding it
// ends first.
func awaitLine(t *testing.T, path string, done <-chan error) {
	t.Helper()
	fifo, err := os.OpenFile(path, os.O_RDWR, 0) // never blocks; reads wait for a writer's data
	if err != nil {
		t.Fatal(err)
	}
	defer fifo.Close()
	line := make(chan error, 1)
	go func() {
		_, err := bufio.NewReader(fifo).ReadString('\n')
		line <- err
	}()
	select {
	case err := <-line:
		if err != nil {
			t.Fatal(err)
		}
	case err := <-done:
		t.Fatalf("the exec ended before it wrote %s: %v", path, err)
	}
}

// pidfd is a descriptor that becomes readable when process pid exits.
func pidfd(t *testing.T, pid int) int {
	t.Helper()
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// awaitExit waits for a pidfd's process to exit (a minute at most).
func awaitExit(t *testing.T, fd int) {
	t.Helper()
	for {
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 60_000)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || n == 0 {
			t.Fatalf("the process did not exit: %v", err)
		}
		return
	}
}
