package runtime

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/runlet/runlet/integration/internal/daemontest"
)

func TestPodLifecycleWithEveryHandlerThroughCrictl(t *testing.T) {
	f := start(t)
	for _, h := range f.handlers {
		id := f.runp(t, "web-"+strings.TrimPrefix(h+"x", "-"), h)
		want := h
		if want == "" {
			want = "runc"
		}
		if out := f.MustCrictl(t, "pods", "--id", id); !readyWord.MatchString(out) || !strings.Contains(out, want) {
			t.Fatalf("pods after runp --runtime %q:\n%s", h, out)
		}
		state, info := f.inspectp(t, id)
		pid := int(info["pid"].(float64))
		if state != "SANDBOX_READY" || info["runtimeHandler"] != want || !running(pid) {
			t.Fatalf("inspectp: state %s info %v", state, info)
		}
		f.MustCrictl(t, "stopp", id)
		if state, _ := f.inspectp(t, id); state != "SANDBOX_NOTREADY" {
			t.Fatalf("after stopp: %s", state)
		}
		if running(pid) {
			t.Fatalf("pause pid %d still runs after stopp", pid)
		}
		f.MustCrictl(t, "rmp", id)
		if out := f.MustCrictl(t, "pods", "-q"); strings.TrimSpace(out) != "" {
			t.Fatalf("pods after rmp: %q", out)
		}
		sock := strings.TrimPrefix(info["shimAddress"].(string), "unix://")
		daemontest.WaitFor(t, 10*time.Second, "the shim's socket to go", func() bool {
			_, err := os.Stat(sock)
			return os.IsNotExist(err)
		})
	}
	f.assertNothingLeft(t)
}

func TestUnknownHandlerIsRefusedNamingTheConfiguredOnes(t *testing.T) {
	f := start(t)
	out, err := f.Crictl(t, "runp", "--runtime", "nope", f.podConfig(t, "x"))
	if err == nil || !strings.Contains(out, `unknown runtime handler \"nope\"`) || !strings.Contains(out, "crun, runc") || !strings.Contains(out, "InvalidArgument") {
		t.Fatalf("runp --runtime nope: %v\n%s", err, out)
	}
	if out := f.MustCrictl(t, "pods", "-q"); strings.TrimSpace(out) != "" {
		t.Fatalf("a refused pod is listed: %q", out)
	}
	f.assertNothingLeft(t)
}

func TestStopAndRemoveOfAnUnknownPodAreNoErrors(t *testing.T) {
	f := start(t)
	ctx := daemontest.Ctx(t)
	if _, err := f.Runtime.StopPodSandbox(ctx, stopReq("nope")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Runtime.RemovePodSandbox(ctx, removeReq("nope")); err != nil {
		t.Fatal(err)
	}
}

// A retried RunPodSandbox (kubelet's, after a timeout) gets the pod the
// first call made; another config under the same name and attempt is
// AlreadyExists naming the holder.
func TestARetriedRunGetsItsPodAndAnotherConfigOfTheNameIsAlreadyExists(t *testing.T) {
	f := start(t)
	cfg := f.podConfig(t, "dup")
	id := strings.TrimSpace(f.MustCrictl(t, "runp", cfg))
	if again := strings.TrimSpace(f.MustCrictl(t, "runp", cfg)); again != id {
		t.Fatalf("a retried runp made pod %s beside %s", again, id)
	}
	raw, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(f.Dir, "dup-other.json")
	if err := os.WriteFile(other, []byte(strings.Replace(string(raw), `"hostname":"dup"`, `"hostname":"dup2"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := f.Crictl(t, "runp", other)
	if err == nil || !strings.Contains(out, "AlreadyExists") || !strings.Contains(out, id) {
		t.Fatalf("runp of another config under the name: %v\n%s", err, out)
	}
	if pods := f.MustCrictl(t, "pods", "-q"); strings.Count(pods, "\n") != 1 {
		t.Fatalf("pods after the retries:\n%s", pods)
	}
	f.MustCrictl(t, "rmp", "-f", id)
	f.assertNothingLeft(t)
}

// Stopping runletd, gracefully or not, never touches a pod, on any
// handler: closing our own shim connections is no shim exit.
func TestPodsSurviveRunletdStoppedBySIGTERMSIGINTOrKill9(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) { podsSurviveStop(t, sig) })
	}
}

func podsSurviveStop(t *testing.T, sig syscall.Signal) {
	f := start(t)
	ids := map[string]int{}
	for _, h := range f.handlers {
		id := f.runp(t, fmt.Sprintf("crash-%d", len(ids)), h)
		_, info := f.inspectp(t, id)
		ids[id] = int(info["pid"].(float64))
	}
	if err := f.Proc.Signal(sig); err != nil {
		t.Fatal(err)
	}
	daemontest.WaitFor(t, 20*time.Second, "runletd to exit on "+sig.String(), f.Proc.Exited)
	f.Restart(t)
	for id, pid := range ids {
		state, info := f.inspectp(t, id)
		if state != "SANDBOX_READY" || int(info["pid"].(float64)) != pid || !running(pid) {
			t.Fatalf("pod %s after the restart: %s, info %v (pid was %d)", id, state, info, pid)
		}
		f.MustCrictl(t, "stopp", id)
		f.MustCrictl(t, "rmp", id)
	}
	f.assertNothingLeft(t)
}

func TestAPodWhoseShimDiesIsNotReadyAndCleansUp(t *testing.T) {
	f := start(t)
	id := f.runp(t, "doomed", "")
	_, info := f.inspectp(t, id)
	shimPid := daemontest.ShimServing(t, info["shimAddress"].(string))
	if err := syscall.Kill(shimPid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	daemontest.WaitFor(t, 30*time.Second, "the pod to be not ready", func() bool {
		state, _ := f.inspectp(t, id)
		return state == "SANDBOX_NOTREADY"
	})
	f.MustCrictl(t, "stopp", id)
	f.MustCrictl(t, "rmp", id)
	pid := int(info["pid"].(float64))
	daemontest.WaitFor(t, 10*time.Second, "the pause of a dead shim to be gone", func() bool { return !running(pid) })
	if _, err := os.Stat(strings.TrimPrefix(info["shimAddress"].(string), "unix://")); !os.IsNotExist(err) {
		t.Fatalf("the dead shim's socket is left: %v", err)
	}
	f.assertNothingLeft(t)
}

// readyWord matches crictl's Ready state, not NotReady.
var readyWord = regexp.MustCompile(`\bReady\b`)

// running reports whether pid is a live process (a zombie waiting for its
// parent to reap it has ended).
func running(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i > 0 && len(stat) > i+2 && stat[i+2] != 'Z'
}

func TestStatusReportsReadinessAndEveryHandler(t *testing.T) {
	f := start(t)
	out := f.MustCrictl(t, "info", "-o", "json")
	for _, want := range []string{`"RuntimeReady"`, `"NetworkReady"`, `"name": "crun"`, `"name": "runc"`, `"recursive_read_only_mounts": true`} {
		if !strings.Contains(out, want) {
			t.Fatalf("crictl info lacks %s:\n%s", want, out)
		}
	}
}
