package runtime

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/integration/images/testimages"
	"github.com/runlet/runlet/integration/internal/daemontest"
)

const busybox = "docker.io/library/busybox:latest"

// startWithBusybox is start with a busybox image imported at start.
func startWithBusybox(t *testing.T) *fixture {
	t.Helper()
	return startWithImages(t, nil)
}

// startWithImages is start with busybox and more images (by reference)
// imported at start.
func startWithImages(t *testing.T, more map[string]v1.Image) *fixture {
	t.Helper()
	daemontest.NeedRoot(t)
	dir := busyboxImportDir(t)
	n := 0
	for ref, img := range more {
		n++
		if err := testimages.WriteOCIArchive(filepath.Join(dir, fmt.Sprintf("more-%d.tar", n)), ref, img); err != nil {
			t.Fatal(err)
		}
	}
	return startExtra(t, "[images]\nimport_dir = \""+dir+"\"\n")
}

// busyboxImportDir is a directory holding the busybox image as an OCI
// archive, for runletd's import_dir.
func busyboxImportDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	img, err := testimages.BusyboxImage("")
	if err != nil {
		t.Fatal(err)
	}
	if err := testimages.WriteOCIArchive(filepath.Join(dir, "busybox.tar"), busybox, img); err != nil {
		t.Fatal(err)
	}
	return dir
}

// containerConfig writes a container config running script for crictl.
func (f *fixture) containerConfig(t *testing.T, name, script string) string {
	t.Helper()
	return f.containerConfigWith(t, name, map[string]any{"command": []string{"sh", "-c", script}})
}

// containerConfigWith writes a busybox container config with more fields
// (which may replace the defaults) for crictl.
func (f *fixture) containerConfigWith(t *testing.T, name string, fields map[string]any) string {
	t.Helper()
	cfg := map[string]any{
		"metadata": map[string]any{"name": name},
		"image":    map[string]any{"image": busybox},
		"log_path": name + ".log",
	}
	for k, v := range fields {
		cfg[k] = v
	}
	b, _ := json.Marshal(cfg)
	p := filepath.Join(f.Dir, name+"-ctr.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// run creates and starts a container in a new pod and returns both ids.
func (f *fixture) run(t *testing.T, name, handler, script string) (pod, ctr string) {
	t.Helper()
	pod = f.runp(t, name, handler)
	ctr = strings.TrimSpace(f.MustCrictl(t, "create", pod, f.containerConfig(t, name, script), filepath.Join(f.Dir, name+"-pod.json")))
	f.MustCrictl(t, "start", ctr)
	return pod, ctr
}

func (f *fixture) waitLogs(t *testing.T, ctr, want string) string {
	t.Helper()
	var out string
	daemontest.WaitFor(t, 30*time.Second, "the log to hold "+want, func() bool {
		out, _ = f.Crictl(t, "logs", ctr)
		return strings.Contains(out, want)
	})
	return out
}

func TestContainerLifecycleAndLogsWithEveryHandler(t *testing.T) {
	f := startWithBusybox(t)
	for i, h := range f.handlers {
		name := []string{"runc", "crun", "ctrd"}[i]
		pod, ctr := f.run(t, name, h, "echo out-$HOSTNAME; echo err >&2; trap 'exit 7' TERM; while :; do sleep 0.1; done")
		f.waitLogs(t, ctr, "out-"+name)
		if out := f.MustCrictl(t, "ps", "--id", ctr); !strings.Contains(out, "Running") {
			t.Fatalf("ps: %s", out)
		}
		f.MustCrictl(t, "stop", "-t", "10", ctr)
		var st struct {
			Status struct {
				State    string `json:"state"`
				ExitCode int    `json:"exitCode"`
				LogPath  string `json:"logPath"`
			} `json:"status"`
		}
		if err := json.Unmarshal([]byte(f.MustCrictl(t, "inspect", ctr)), &st); err != nil {
			t.Fatal(err)
		}
		if st.Status.State != "CONTAINER_EXITED" || st.Status.ExitCode != 7 {
			t.Fatalf("%s after stop: %+v (the TERM trap exits 7)", h, st.Status)
		}
		log, err := os.ReadFile(st.Status.LogPath)
		if err != nil || !strings.Contains(string(log), " stdout F out-"+name) || !strings.Contains(string(log), " stderr F err") {
			t.Fatalf("%s: CRI log %q: %v", h, log, err)
		}
		f.MustCrictl(t, "rm", ctr)
		f.MustCrictl(t, "rmp", "-f", pod)
	}
	f.assertNothingLeft(t)
}

func TestRemovingAPodRemovesItsRunningContainers(t *testing.T) {
	f := startWithBusybox(t)
	pod, ctr := f.run(t, "cascade", "", "sleep 1000")
	f.MustCrictl(t, "stopp", pod)
	if out := f.MustCrictl(t, "ps", "-a", "--id", ctr); !strings.Contains(out, "Exited") {
		t.Fatalf("after stopp: %s", out)
	}
	f.MustCrictl(t, "rmp", pod)
	if out := f.MustCrictl(t, "ps", "-a", "-q"); strings.TrimSpace(out) != "" {
		t.Fatalf("containers left after rmp: %q", out)
	}
	f.assertNothingLeft(t)
}

func TestContainerOutputReachesItsLogWhileRunletdIsDown(t *testing.T) {
	f := startWithBusybox(t)
	type running struct{ pod, ctr string }
	var all []running
	for i, h := range f.handlers {
		name := []string{"steady", "steadyc", "steadyd"}[i]
		pod, ctr := f.run(t, name, h, "i=0; while [ $i -lt 60 ]; do echo line-$i; i=$((i+1)); sleep 0.05; done; sleep 1000")
		f.waitLogs(t, ctr, "line-1")
		all = append(all, running{pod, ctr})
	}
	f.Proc.Kill()
	time.Sleep(4 * time.Second) // the containers keep writing
	f.Restart(t)
	for i, r := range all {
		out := f.waitLogs(t, r.ctr, "line-59")
		for n := 0; n < 60; n++ {
			if !strings.Contains(out, "line-"+itoa(n)+"\n") {
				t.Fatalf("%s: line-%d lost while runletd was down:\n%s", f.handlers[i], n, out)
			}
		}
		if st := f.MustCrictl(t, "ps", "--id", r.ctr); !strings.Contains(st, "Running") {
			t.Fatalf("after the restart: %s", st)
		}
		f.MustCrictl(t, "rmp", "-f", r.pod)
	}
	f.assertNothingLeft(t)
}

func TestALogPathEscapingThePodsLogDirectoryIsRefused(t *testing.T) {
	f := startWithBusybox(t)
	pod := f.runp(t, "escape", "")
	cfg := map[string]any{"metadata": map[string]any{"name": "x"}, "image": map[string]any{"image": busybox},
		"command": []string{"true"}, "log_path": "../../etc/evil.log"}
	b, _ := json.Marshal(cfg)
	p := filepath.Join(f.Dir, "evil.json")
	os.WriteFile(p, b, 0o600)
	out, err := f.Crictl(t, "create", pod, p, filepath.Join(f.Dir, "escape-pod.json"))
	if err == nil || !strings.Contains(out, "InvalidArgument") {
		t.Fatalf("create with an escaping log path: %v\n%s", err, out)
	}
	if out := f.MustCrictl(t, "ps", "-a", "-q"); strings.TrimSpace(out) != "" {
		t.Fatalf("a refused container is listed: %q", out)
	}
	f.MustCrictl(t, "rmp", "-f", pod)
	f.assertNothingLeft(t)
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestAnExitWhileRunletdIsDownIsSeenAfterTheRestart(t *testing.T) {
	f := startWithBusybox(t)
	pod, ctr := f.run(t, "brief", "", "sleep 1; exit 4")
	f.Proc.Kill()
	time.Sleep(5 * time.Second) // the exit happens, its event finds nobody
	f.Restart(t)
	var st struct {
		Status struct {
			State    string `json:"state"`
			ExitCode int    `json:"exitCode"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(f.MustCrictl(t, "inspect", ctr)), &st); err != nil {
		t.Fatal(err)
	}
	if st.Status.State != "CONTAINER_EXITED" || st.Status.ExitCode != 4 {
		t.Fatalf("after the restart: %+v, want exited with 4", st.Status)
	}
	f.MustCrictl(t, "rmp", "-f", pod)
	f.assertNothingLeft(t)
}

func TestExecSyncReturnsOutputAndExitCodeOnEveryHandler(t *testing.T) {
	f := startWithBusybox(t)
	for i, h := range f.handlers {
		name := []string{"xrunc", "xcrun", "xctrd"}[i]
		pod, ctr := f.run(t, name, h, "sleep 1000")
		out := f.MustCrictl(t, "exec", "-s", ctr, "sh", "-c", "echo in-$(hostname); echo oops >&2")
		if !strings.Contains(out, "in-"+name) || !strings.Contains(out, "oops") {
			t.Fatalf("%s: exec -s output %q", h, out)
		}
		res, err := f.Runtime.ExecSync(daemontest.Ctx(t), execReq(ctr, 10, "sh", "-c", "exit 3"))
		if err != nil || res.ExitCode != 3 {
			t.Fatalf("%s: ExecSync exit: %v, %v", h, res, err)
		}
		_, err = f.Runtime.ExecSync(daemontest.Ctx(t), execReq(ctr, 1, "sleep", "30"))
		if err == nil || !strings.Contains(err.Error(), "DeadlineExceeded") {
			t.Fatalf("%s: ExecSync past its timeout: %v", h, err)
		}
		f.MustCrictl(t, "rmp", "-f", pod)
	}
	f.assertNothingLeft(t)
}

func TestUpdateResourcesAndReopenTheLogAfterRotation(t *testing.T) {
	f := startWithBusybox(t)
	for i, h := range f.handlers {
		name := []string{"urunc", "ucrun", "uctrd"}[i]
		pod, ctr := f.run(t, name, h, "i=0; while :; do echo tick-$i; i=$((i+1)); sleep 0.05; done")
		f.MustCrictl(t, "update", "--memory", "67108864", ctr)
		limit, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/memory", f.cgroup, "runlet-"+ctr, "memory.limit_in_bytes"))
		if err != nil || strings.TrimSpace(string(limit)) != "67108864" {
			t.Fatalf("%s: memory limit after update: %q, %v", h, limit, err)
		}
		f.waitLogs(t, ctr, "tick-3")
		var st struct {
			Status struct {
				LogPath string `json:"logPath"`
			} `json:"status"`
		}
		json.Unmarshal([]byte(f.MustCrictl(t, "inspect", ctr)), &st)
		if err := os.Rename(st.Status.LogPath, st.Status.LogPath+".1"); err != nil {
			t.Fatal(err)
		}
		f.MustCrictl(t, "logs", "--reopen", ctr)
		daemontest.WaitFor(t, 30*time.Second, "ticks in the new log", func() bool {
			b, _ := os.ReadFile(st.Status.LogPath)
			return strings.Contains(string(b), "stdout F tick-")
		})
		f.MustCrictl(t, "rmp", "-f", pod)
	}
	f.assertNothingLeft(t)
}

func TestStatsReportCPUAndMemoryOfRunningContainers(t *testing.T) {
	f := startWithBusybox(t)
	pod, ctr := f.run(t, "busy", "", "x=; while :; do x=$x.; [ ${#x} -gt 100000 ] && x=; done")
	var st struct {
		Stats struct {
			Cpu struct {
				UsageCoreNanoSeconds struct {
					Value string `json:"value"`
				} `json:"usageCoreNanoSeconds"`
			} `json:"cpu"`
			Memory struct {
				WorkingSetBytes struct {
					Value string `json:"value"`
				} `json:"workingSetBytes"`
			} `json:"memory"`
		} `json:"stats"`
	}
	daemontest.WaitFor(t, 30*time.Second, "CPU time to be counted", func() bool {
		raw := f.MustCrictl(t, "stats", "-o", "json", ctr)
		var list struct {
			Stats []json.RawMessage `json:"stats"`
		}
		if json.Unmarshal([]byte(raw), &list) != nil || len(list.Stats) != 1 {
			return false
		}
		json.Unmarshal(list.Stats[0], &st.Stats)
		return st.Stats.Cpu.UsageCoreNanoSeconds.Value != "" && st.Stats.Cpu.UsageCoreNanoSeconds.Value != "0"
	})
	if v := st.Stats.Memory.WorkingSetBytes.Value; v == "" || v == "0" {
		t.Fatalf("memory working set %q", v)
	}
	f.MustCrictl(t, "rmp", "-f", pod)
	f.assertNothingLeft(t)
}

func TestPodStatsSumThePodsContainers(t *testing.T) {
	f := startWithBusybox(t)
	pod, _ := f.run(t, "podstats", "", "x=; while :; do x=$x.; [ ${#x} -gt 100000 ] && x=; done")
	daemontest.WaitFor(t, 30*time.Second, "pod stats with CPU time", func() bool {
		out, err := f.Crictl(t, "statsp", "-o", "json", pod)
		return err == nil && strings.Contains(out, `"usageCoreNanoSeconds"`) && strings.Contains(out, `"containers"`) && !strings.Contains(out, `"usageCoreNanoSeconds": {
            "value": "0"`)
	})
	f.MustCrictl(t, "rmp", "-f", pod)
	f.assertNothingLeft(t)
}

func TestContainerEventsStreamTheLifecycle(t *testing.T) {
	f := startWithBusybox(t)
	ctx := daemontest.Ctx(t)
	stream, err := f.Runtime.GetContainerEvents(ctx, &runtimeapi.GetEventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the subscription is in place
	pod, ctr := f.run(t, "evented", "", "sleep 1000")
	f.MustCrictl(t, "stop", "-t", "0", ctr)
	f.MustCrictl(t, "rm", ctr)
	want := []runtimeapi.ContainerEventType{
		runtimeapi.ContainerEventType_CONTAINER_CREATED_EVENT, runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT,
		runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT, runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT,
	}
	for i, w := range want {
		ev, err := stream.Recv()
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if ev.GetContainerId() != ctr || ev.GetContainerEventType() != w {
			t.Fatalf("event %d: %s for %s, want %s for %s", i, ev.GetContainerEventType(), ev.GetContainerId(), w, ctr)
		}
	}
	f.MustCrictl(t, "rmp", "-f", pod)
	f.assertNothingLeft(t)
}
