package smoketmp

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/ttrpc"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/runlet/runlet/bundle/bundletest"
	ttrpcevents "github.com/runlet/runlet/proto/events/ttrpc/v1"
	task "github.com/runlet/runlet/proto/task/v2"
)

type rec struct{ topics []string }

func (r *rec) Forward(ctx context.Context, req *ttrpcevents.ForwardRequest) (*emptypb.Empty, error) {
	r.topics = append(r.topics, req.GetEnvelope().GetTopic())
	return &emptypb.Empty{}, nil
}

func TestSmoke(t *testing.T) {
	shim := os.Getenv("SHIM")
	bundletest.EnsureHybridCgroupsForCrun(t)
	b := bundletest.NewBundle(t, "sh", "-c", os.Getenv("CMD"))
	dir := t.TempDir()
	evsock := filepath.Join(dir, "ev.sock")
	ln, _ := net.Listen("unix", evsock)
	srv, _ := ttrpc.NewServer()
	r := &rec{}
	ttrpcevents.RegisterEventsService(srv, r)
	go srv.Serve(context.Background(), ln)
	defer srv.Close()
	out := filepath.Join(dir, "out")
	unix.Mkfifo(out, 0600)
	errp := filepath.Join(dir, "err")
	unix.Mkfifo(errp, 0600)
	fo, _ := os.OpenFile(out, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	fe, _ := os.OpenFile(errp, os.O_RDONLY|syscall.O_NONBLOCK, 0)

	os.WriteFile(filepath.Join(b.Path, "log"), nil, 0600)
	t.Cleanup(func() { l, _ := os.ReadFile(filepath.Join(b.Path, "log")); t.Logf("shim log:\n%s", l) })
	cmd := exec.Command(shim, "-namespace", "smoke", "-address", "/tmp/x.sock", "-publish-binary", "x", "-debug", "-id", b.ID, "start")
	cmd.Dir = b.Path
	cmd.Env = append(os.Environ(), "TTRPC_ADDRESS="+evsock, "RUNLET_SHIM_SOCKET_DIR="+filepath.Join(dir, "s"))
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Run(); err != nil {
		t.Fatalf("start: %v %s", err, se.String())
	}
	addr := strings.TrimPrefix(so.String(), "unix://")
	t.Logf("addr %s", addr)
	conn, err := net.Dial("unix", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := task.NewTaskClient(ttrpc.NewClient(conn))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cr, err := c.Create(ctx, &task.CreateTaskRequest{Id: b.ID, Bundle: b.Path, Stdout: out, Stderr: errp})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("pid %d", cr.Pid)
	if _, err := c.Start(ctx, &task.StartRequest{Id: b.ID}); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("RSS") != "" {
		pid, _ := os.ReadFile(filepath.Join(b.Path, "shim.pid"))
		st, _ := os.ReadFile("/proc/" + string(pid) + "/smaps_rollup")
		t.Logf("smaps %s", st)
	}
	if os.Getenv("EXTRA") != "" {
		extra(t, ctx, c, b.ID, dir)
	}
	w, err := c.Wait(ctx, &task.WaitRequest{Id: b.ID})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	n, e1 := fo.Read(buf)
	m, e2 := fe.Read(buf[50:])
	t.Logf("read errs %v %v", e1, e2)
	t.Logf("exit %d out %q err %q", w.ExitStatus, buf[:n], buf[50:50+m])
	d, err := c.Delete(ctx, &task.DeleteRequest{Id: b.ID})
	t.Logf("delete %v %v", d, err)
	_, err = c.Shutdown(ctx, &task.ShutdownRequest{})
	t.Logf("shutdown %v", err)
	time.Sleep(200 * time.Millisecond)
	t.Logf("events %v", r.topics)
}

func extra(t *testing.T, ctx context.Context, c task.TaskService, id, dir string) {
	st, err := c.Stats(ctx, &task.StatsRequest{Id: id})
	t.Logf("stats: %v %v", st.GetStats().GetTypeUrl(), err)
	pids, err := c.Pids(ctx, &task.PidsRequest{Id: id})
	t.Logf("pids: %v %v", pids, err)
	_, err = c.Pause(ctx, &task.PauseRequest{Id: id})
	t.Logf("pause: %v", err)
	s1, _ := c.State(ctx, &task.StateRequest{Id: id})
	t.Logf("state: %v", s1.GetStatus())
	_, err = c.Resume(ctx, &task.ResumeRequest{Id: id})
	t.Logf("resume: %v", err)
	eo := filepath.Join(dir, "eo")
	unix.Mkfifo(eo, 0600)
	f, _ := os.OpenFile(eo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	spec := []byte(`{"args":["sh","-c","echo fromexec; exit 4"],"cwd":"/","env":["PATH=/bin"]}`)
	_, err = c.Exec(ctx, &task.ExecProcessRequest{Id: id, ExecId: "e1", Stdout: eo, Spec: &anypb.Any{TypeUrl: "types.containerd.io/opencontainers/runtime-spec/1/Process", Value: spec}})
	t.Logf("exec: %v", err)
	_, err = c.Start(ctx, &task.StartRequest{Id: id, ExecId: "e1"})
	t.Logf("exec start: %v", err)
	w, err := c.Wait(ctx, &task.WaitRequest{Id: id, ExecId: "e1"})
	buf := make([]byte, 100)
	n, _ := f.Read(buf)
	t.Logf("exec wait: %v %v out %q", w, err, buf[:n])
	_, err = c.Delete(ctx, &task.DeleteRequest{Id: id, ExecId: "e1"})
	t.Logf("exec delete: %v", err)
	_, err = c.Kill(ctx, &task.KillRequest{Id: id, Signal: 9})
	t.Logf("kill: %v", err)
}
