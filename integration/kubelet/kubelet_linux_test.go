package kubelet

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/runlet/runlet/bundle/bundletest"
	"github.com/runlet/runlet/integration/internal/daemontest"
)

// hostFile is what the test writes into the pods' hostPath volume.
const hostFile = "hello from the host"

func TestAKubeletOnRunletdRunsPodsTheWayAClusterUserExpects(t *testing.T) {
	daemontest.NeedRoot(t)
	bundletest.EnsureHybridCgroupsForCrun(t)
	dir := daemontest.ShortTempDir(t)
	guardKubeletHostState(t, dir)
	d, busybox := startRunletd(t, dir)
	c := startControlPlane(t, dir)
	c.startKubelet(t, d)

	hostDir := filepath.Join(dir, "host-volume")
	if err := os.MkdirAll(hostDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(hostDir, "hello"), []byte(hostFile), 0o644); err != nil {
		t.Fatal(err)
	}
	c.apply(t, runtimeClasses())
	c.apply(t, webPod(t, "web-runc", runcClass, busybox, hostDir))
	c.apply(t, webPod(t, "web-crun", crunClass, busybox, hostDir))
	c.apply(t, probedPod(t, "probed", busybox))
	c.apply(t, sleeperPod(t, "unknown-handler", unknownClass, busybox))
	c.apply(t, resizedPod(t, "resized", busybox))
	for _, pod := range []string{"web-runc", "web-crun", "probed", "resized"} {
		c.waitPhase(t, pod, "Running")
	}

	t.Run("TheNodeIsReadyAndReportsRunletsSemverVersion", func(t *testing.T) {
		version := c.kubectl(t, "get", "node", nodeName, "-o", "jsonpath={.status.nodeInfo.containerRuntimeVersion}")
		if !regexp.MustCompile(`^runlet://\d+\.\d+\.\d+(\+[0-9A-Za-z.-]+)?$`).MatchString(version) {
			t.Fatalf("the node's container runtime version is %q, want runlet://SEMVER", version)
		}
	})
	t.Run("EachPodRunsUnderTheHandlerItsRuntimeClassNames", func(t *testing.T) {
		for pod, want := range map[string]struct{ handler, shim string }{
			"web-runc": {"runc", "runlet-shim-runc-v2"}, "web-crun": {"crun", "runlet-shim-crun"},
		} {
			handler, shim := c.sandboxRuntime(t, pod)
			if handler != want.handler || shim != want.shim {
				t.Errorf("pod %s: handler %q served by %s, want %q served by %s", pod, handler, shim, want.handler, want.shim)
			}
		}
	})
	t.Run("TheInitContainerRunsFirstAndEmptyDirAndHostPathReachTheApp", func(t *testing.T) {
		for _, pod := range []string{"web-runc", "web-crun"} {
			if reason := c.kubectl(t, "get", "pod", pod, "-o", "jsonpath={.status.initContainerStatuses[0].state.terminated.reason}"); reason != "Completed" {
				t.Errorf("pod %s: init container ended %q, want Completed", pod, reason)
			}
			logs := c.kubectl(t, "logs", pod, "-c", "web")
			for _, want := range []string{"init wrote: " + pod, "host file: " + hostFile} {
				if !strings.Contains(logs, want) {
					t.Errorf("kubectl logs %s lacks %q:\n%s", pod, want, logs)
				}
			}
		}
	})
	t.Run("KubectlExecRunsInTheContainerWithItsStdin", func(t *testing.T) {
		for _, pod := range []string{"web-runc", "web-crun"} {
			out, err := c.kubectlIn(t, "sent on stdin", "exec", "-i", pod, "-c", "web", "--", "sh", "-c", `echo "$(hostname): $(cat)"; ls /www`)
			if want := pod + ": sent on stdin\nindex.html"; err != nil || out != want {
				t.Errorf("kubectl exec %s: %q (%v), want %q", pod, out, err, want)
			}
			out, err = c.kubectlErr(t, "exec", pod, "-c", "web", "--", "sh", "-c", "exit 3")
			if code := exitCode(err); code != 3 {
				t.Errorf("kubectl exec %s of `exit 3` exited %d: %s", pod, code, out)
			}
		}
	})
	t.Run("KubectlPortForwardReachesThePodsPort", func(t *testing.T) {
		for _, pod := range []string{"web-runc", "web-crun"} {
			if body := c.portForwardGet(t, pod, 8080); strings.TrimSpace(body) != "served by "+pod {
				t.Errorf("GET through kubectl port-forward to %s: %q", pod, body)
			}
		}
	})
	t.Run("AFailingExecLivenessProbeRestartsTheContainerAndGCRemovesTheOldOne", func(t *testing.T) {
		c.waitFor(t, time.Minute, "the probed container to be restarted once and running", func() bool {
			out, _ := c.kubectlErr(t, "get", "pod", "probed", "-o",
				"jsonpath={.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].ready}")
			return out == "1 true"
		})
		c.waitFor(t, 3*time.Minute, "kubelet's GC to remove the container the probe killed", func() bool {
			return len(c.containersOf(t, "probed")) == 1
		})
		if n := c.kubectl(t, "get", "pod", "probed", "-o", "jsonpath={.status.containerStatuses[0].restartCount}"); n != "1" {
			t.Errorf("restart count %s after GC, want 1", n)
		}
	})
	t.Run("AnInPlaceResizeReachesTheContainersCgroupAndThePodsRecord", func(t *testing.T) {
		const limit = "100663296" // 96Mi
		if info := c.runletd.MustCrictl(t, "inspectp", c.sandboxID(t, "resized")); strings.Contains(info, limit) {
			t.Fatalf("the pod's record holds %s before the resize", limit)
		}
		c.kubectl(t, "patch", "pod", "resized", "--subresource", "resize", "--patch", resizePatch(t, "300m", "96Mi"))
		c.waitFor(t, time.Minute, "kubelet to report the new memory limit", func() bool {
			out, _ := c.kubectlErr(t, "get", "pod", "resized", "-o", "jsonpath={.status.containerStatuses[0].resources.limits.memory}")
			return out == "96Mi"
		})
		// cgroup v2's file, else v1's (this machine's).
		limitFile := "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes"
		if got := c.kubectl(t, "exec", "resized", "--", "sh", "-c", limitFile); got != limit {
			t.Errorf("the container's memory limit is %s after the resize, want %s", got, limit)
		}
		if info := c.runletd.MustCrictl(t, "inspectp", c.sandboxID(t, "resized")); !strings.Contains(info, limit) {
			t.Errorf("the pod's record lacks the resized pod limit %s:\n%s", limit, info)
		}
	})
	t.Run("ARuntimeClassWithAnUnknownHandlerGivesAnEventNamingItAndMakesNothing", func(t *testing.T) {
		// runletd's refusal, as kubelet relays it (not kubelet's own).
		refusal := `code = InvalidArgument desc = unknown runtime handler "` + unknownHandler + `"`
		c.waitFor(t, time.Minute, "an event with runletd's refusal of the unknown handler", func() bool {
			out, _ := c.kubectlErr(t, "get", "events", "--field-selector", "involvedObject.name=unknown-handler",
				"-o", "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}")
			return strings.Contains(out, "FailedCreatePodSandBox") && strings.Contains(out, refusal)
		})
		if ids := strings.TrimSpace(c.runletd.MustCrictl(t, "pods", "-q", "--label", "io.kubernetes.pod.name=unknown-handler")); ids != "" {
			t.Errorf("runletd made a sandbox for the unknown handler: %s", ids)
		}
		if phase := c.kubectl(t, "get", "pod", "unknown-handler", "-o", "jsonpath={.status.phase}"); phase != "Pending" {
			t.Errorf("the pod of the unknown handler is %s, want Pending", phase)
		}
	})
	// runletd stopped by SIGTERM, then killed, under a live kubelet: the
	// pods' processes must outlive both, unrestarted. kubelet's CRI errors
	// while runletd is away are its due, not runletd's answers.
	pids := map[string]int{"web-runc": c.sandboxPid(t, "web-runc"), "web-crun": c.sandboxPid(t, "web-crun")}
	away := len(c.kubelet.LogText())
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		c.restartRunletd(t, sig)
	}
	c.waitFor(t, time.Minute, "the node to be Ready after runletd's restarts", func() bool {
		out, _ := c.kubectlErr(t, "get", "node", nodeName, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		return out == "True"
	})
	back := len(c.kubelet.LogText())
	t.Run("PodsOutliveRunletdStoppedBySIGTERMAndKilledUnderKubelet", func(t *testing.T) {
		for pod, pid := range pids {
			if now := c.sandboxPid(t, pod); now != pid || syscall.Kill(pid, 0) != nil {
				t.Errorf("pod %s: pause pid %d after the restarts, was %d (alive: %v)", pod, now, pid, syscall.Kill(pid, 0) == nil)
			}
			if n := c.kubectl(t, "get", "pod", pod, "-o", "jsonpath={.status.containerStatuses[0].restartCount}"); n != "0" {
				t.Errorf("pod %s: kubelet restarted its container %s times across runletd's restarts", pod, n)
			}
			if out, err := c.kubectlErr(t, "exec", pod, "-c", "web", "--", "cat", "/scratch/init"); err != nil || out != pod {
				t.Errorf("kubectl exec %s after the restarts: %q %v", pod, out, err)
			}
		}
	})
	t.Run("DeletingThePodsLeavesNothingOnTheNode", func(t *testing.T) {
		c.kubectl(t, "delete", "pods", "--all", "--wait=true", "--timeout=2m")
		c.waitFor(t, 3*time.Minute, "kubelet to remove every sandbox and container from runletd", func() bool {
			return strings.TrimSpace(c.runletd.MustCrictl(t, "pods", "-q")+c.runletd.MustCrictl(t, "ps", "-a", "-q")) == ""
		})
		c.assertNodeEmpty(t)
	})
	t.Run("KubeletLogsNoCRIErrorButTheUnknownHandler", func(t *testing.T) {
		log := c.kubelet.LogText()
		for _, line := range criErrors(log[:away] + log[back:]) {
			t.Errorf("kubelet logged a CRI error: %s", line)
		}
	})
}

// exitCode is the exit code of a command's error (0 for none, -1 when it
// did not exit).
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// criErrors are kubelet's log lines carrying an error status from runletd,
// but for the unknown handler the test asks for and NotFound for a
// container kubelet itself removed before (kubelet asks again for the
// status of a container it has just removed; any runtime says NotFound).
func criErrors(log string) []string {
	var lines []string
	removed := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := removeContainer.FindStringSubmatch(line); m != nil {
			removed[m[1]] = true
		}
		if !strings.Contains(line, "rpc error: code = ") || strings.Contains(line, unknownHandler) {
			continue
		}
		if strings.Contains(line, "code = NotFound") && allIn(containerIDs.FindAllString(line, -1), removed) {
			continue
		}
		lines = append(lines, line)
	}
	return lines
}

var (
	removeContainer = regexp.MustCompile(`"RemoveContainer" containerID="([0-9a-f]{64})"`)
	containerIDs    = regexp.MustCompile(`[0-9a-f]{64}`)
)

// allIn reports whether ids is not empty and every one is in set.
func allIn(ids []string, set map[string]bool) bool {
	for _, id := range ids {
		if !set[id] {
			return false
		}
	}
	return len(ids) > 0
}

// waitPhase waits for pod to be in phase.
func (c *cluster) waitPhase(t *testing.T, pod, phase string) {
	t.Helper()
	c.waitFor(t, 3*time.Minute, "pod "+pod+" to be "+phase, func() bool {
		out, _ := c.kubectlErr(t, "get", "pod", pod, "-o", "jsonpath={.status.phase}")
		return out == phase
	})
}

// waitFor polls cond every half second, failing early if kubelet exits.
func (c *cluster) waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	daemontest.WaitFor(t, timeout, what, func() bool {
		if c.kubelet.Exited() {
			t.Fatalf("kubelet exited:\n%s", tailOf(c.kubelet.LogText(), 8000))
		}
		if cond() {
			return true
		}
		time.Sleep(500 * time.Millisecond)
		return false
	})
}

// sandboxID is the id of pod's sandbox in runletd.
func (c *cluster) sandboxID(t *testing.T, pod string) string {
	t.Helper()
	id := strings.TrimSpace(c.runletd.MustCrictl(t, "pods", "-q", "--label", "io.kubernetes.pod.name="+pod))
	if id == "" || strings.Contains(id, "\n") {
		t.Fatalf("pod %s has sandboxes %q in runletd, want one", pod, id)
	}
	return id
}

// sandboxPid is the pid of pod's pause process, as runletd reports it.
func (c *cluster) sandboxPid(t *testing.T, pod string) int {
	t.Helper()
	var out struct {
		Info struct {
			Pid int `json:"pid"`
		} `json:"info"`
	}
	if err := json.Unmarshal([]byte(c.runletd.MustCrictl(t, "inspectp", c.sandboxID(t, pod))), &out); err != nil {
		t.Fatal(err)
	}
	return out.Info.Pid
}

// restartRunletd ends runletd with sig and starts it again on the same
// configuration (under the test's t: it lives to the test's end).
func (c *cluster) restartRunletd(t *testing.T, sig syscall.Signal) {
	t.Helper()
	d := c.runletd
	if err := d.Proc.Signal(sig); err != nil {
		t.Fatal(err)
	}
	daemontest.WaitFor(t, 30*time.Second, "runletd to end on "+sig.String(), d.Proc.Exited)
	d.Restart(t)
}

// sandboxRuntime is the runtime handler runletd records for pod's sandbox
// and the name of the shim program serving it.
func (c *cluster) sandboxRuntime(t *testing.T, pod string) (handler, shim string) {
	t.Helper()
	id := c.sandboxID(t, pod)
	var out struct {
		Status struct {
			RuntimeHandler string `json:"runtimeHandler"`
		} `json:"status"`
		Info struct {
			ShimAddress string `json:"shimAddress"`
		} `json:"info"`
	}
	if err := json.Unmarshal([]byte(c.runletd.MustCrictl(t, "inspectp", id)), &out); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", daemontest.ShimServing(t, out.Info.ShimAddress)))
	if err != nil {
		t.Fatal(err)
	}
	return out.Status.RuntimeHandler, filepath.Base(exe)
}

// containersOf lists the ids of runletd's containers of pod, exited too.
func (c *cluster) containersOf(t *testing.T, pod string) []string {
	t.Helper()
	return strings.Fields(c.runletd.MustCrictl(t, "ps", "-a", "-q", "--label", "io.kubernetes.pod.name="+pod))
}

// portForwardGet runs kubectl port-forward to pod's port on a free local
// port and returns the body of an HTTP GET through it.
func (c *cluster) portForwardGet(t *testing.T, pod string, port int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, daemontest.Tool(t, "kubectl"), "--kubeconfig", c.admin,
		"port-forward", "--address", "127.0.0.1", "pod/"+pod, fmt.Sprintf(":%d", port))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); cmd.Wait() }()
	local := forwardedPort(t, stdout)
	client := &http.Client{Timeout: 20 * time.Second}
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%s/", local))
	if err != nil {
		t.Fatalf("GET through port-forward to %s: %v", pod, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET through port-forward to %s: %s %v", pod, resp.Status, err)
	}
	return string(body)
}

// forwardedPort reads kubectl port-forward's output up to the local port
// it listens on.
func forwardedPort(t *testing.T, out io.Reader) string {
	t.Helper()
	re := regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) ->`)
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(io.Discard, out)
			return m[1]
		}
	}
	t.Fatalf("kubectl port-forward ended without forwarding: %v", sc.Err())
	return ""
}
