package runtime

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runlet/runlet/integration/internal/daemontest"
)

func TestStreamingExecCarriesStdinOutputAndExitCodeOnEveryHandler(t *testing.T) {
	f := startWithBusybox(t)
	fds := openFDs(t, f.Proc.Pid())
	for i, h := range f.handlers {
		pod, ctr := f.run(t, []string{"erunc", "ecrun", "ectrd"}[i], h, "sleep 1000")
		cmd := f.CrictlCommand(t, "exec", "-i", ctr, "sh", "-c", "cat; echo to-stderr >&2; exit 7")
		cmd.Stdin = strings.NewReader("through stdin\n")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError // crictl exits 1 and names the command's code
		if !errors.As(err, &exit) || !strings.Contains(stderr.String(), "exit code 7") {
			t.Fatalf("%s: crictl exec: %v (want exit 7)\nstdout %q\nstderr %q", h, err, stdout.String(), stderr.String())
		}
		if stdout.String() != "through stdin\n" || !strings.HasPrefix(stderr.String(), "to-stderr\n") {
			t.Fatalf("%s: stdout %q stderr %q", h, stdout.String(), stderr.String())
		}
		f.MustCrictl(t, "rmp", "-f", pod)
	}
	f.assertNothingLeft(t)
	f.assertFDsBack(t, fds)
}

func TestAttachWithStdinOnceFeedsTheShellAndClosesItsStdin(t *testing.T) {
	f := startWithBusybox(t)
	fds := openFDs(t, f.Proc.Pid())
	for i, h := range f.handlers {
		name := []string{"arunc", "acrun", "actrd"}[i]
		pod := f.runp(t, name, h)
		cfg := f.containerConfigWith(t, name, map[string]any{"command": []string{"sh"}, "stdin": true, "stdin_once": true})
		ctr := strings.TrimSpace(f.MustCrictl(t, "create", pod, cfg, filepath.Join(f.Dir, name+"-pod.json")))
		f.MustCrictl(t, "start", ctr)
		cmd := f.CrictlCommand(t, "attach", "-i", ctr)
		cmd.Stdin = strings.NewReader("echo hello from $(hostname)\n")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "hello from "+name) {
			t.Fatalf("%s: crictl attach: %v\n%s", h, err, out)
		}
		daemontest.WaitFor(t, 20*time.Second, "the shell to exit once its stdin closed", func() bool {
			return strings.Contains(f.MustCrictl(t, "inspect", "-o", "go-template", "--template", "{{.status.state}}", ctr), "EXITED")
		})
		f.waitLogs(t, ctr, "hello from "+name)
		f.MustCrictl(t, "rmp", "-f", pod)
	}
	f.assertNothingLeft(t)
	f.assertFDsBack(t, fds)
}

func TestAttachWithoutStdinFollowsTheOutputOnEveryHandlerUntilTheContainerStops(t *testing.T) {
	f := startWithBusybox(t)
	for i, h := range f.handlers {
		name := []string{"frunc", "fcrun", "fctrd"}[i]
		pod, ctr := f.run(t, name, h, "i=0; while true; do echo out$i; echo err$i >&2; i=$((i+1)); sleep 0.2; done")
		att := f.CrictlCommand(t, "attach", ctr)
		var out lockedBuffer
		att.Stdout, att.Stderr = &out, &out
		if err := att.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- att.Wait() }()
		daemontest.WaitFor(t, 20*time.Second, "attached output from "+h, func() bool {
			s := out.String()
			return strings.Contains(s, "out") && strings.Contains(s, "err")
		})
		f.MustCrictl(t, "stop", "-t", "0", ctr)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			att.Process.Kill()
			<-done
			t.Fatalf("%s: the attach session outlived its container", h)
		}
		f.MustCrictl(t, "rmp", "-f", pod)
	}
	f.assertNothingLeft(t)
}

// lockedBuffer is a bytes.Buffer a process writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestAttachToAContainerWithoutStdinIsRefused(t *testing.T) {
	f := startWithBusybox(t)
	pod, ctr := f.run(t, "nostdin", "", "sleep 1000")
	out, err := f.Crictl(t, "attach", "-i", ctr)
	if err == nil || !strings.Contains(out, "InvalidArgument") {
		t.Fatalf("attach -i to a container without stdin: %v\n%s", err, out)
	}
	f.MustCrictl(t, "rmp", "-f", pod)
	f.assertNothingLeft(t)
}

func TestPortForwardReachesAServerOnThePodsLoopback(t *testing.T) {
	f := startWithBusybox(t)
	for _, hostNet := range []bool{false, true} {
		name := map[bool]string{false: "pfpod", true: "pfhost"}[hostNet]
		port := freePort(t)
		pod := f.runPod(t, name, hostNet)
		script := fmt.Sprintf("mkdir /www && echo served-by-%s > /www/index.html && exec httpd -f -p 127.0.0.1:%d -h /www", name, port)
		ctr := strings.TrimSpace(f.MustCrictl(t, "create", pod, f.containerConfig(t, name, script), filepath.Join(f.Dir, name+"-pod.json")))
		f.MustCrictl(t, "start", ctr)
		local := freePort(t)
		fwd := f.CrictlCommand(t, "port-forward", pod, fmt.Sprintf("%d:%d", local, port))
		var fwdOut bytes.Buffer
		fwd.Stdout, fwd.Stderr = &fwdOut, &fwdOut
		if err := fwd.Start(); err != nil {
			t.Fatal(err)
		}
		stopped := false
		stop := func() {
			if !stopped {
				stopped = true
				fwd.Process.Kill()
				fwd.Wait()
			}
		}
		t.Cleanup(stop)
		body := getEventually(t, fmt.Sprintf("http://127.0.0.1:%d/", local))
		stop()
		if body != "served-by-"+name+"\n" {
			t.Fatalf("port-forward (host network %v) got %q\ncrictl: %s", hostNet, body, fwdOut.String())
		}
		f.MustCrictl(t, "rmp", "-f", pod)
	}
	f.assertNothingLeft(t)
}

// runPod starts a pod on the default handler, in the host's network
// namespace when hostNet is set.
func (f *fixture) runPod(t *testing.T, name string, hostNet bool) string {
	t.Helper()
	path := f.podConfig(t, name)
	if hostNet {
		b, _ := os.ReadFile(path)
		b = bytes.Replace(b, []byte(`"linux":{`), []byte(`"linux":{"security_context":{"namespace_options":{"network":2}},`), 1)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return strings.TrimSpace(f.MustCrictl(t, "runp", path))
}

// getEventually GETs url until it answers (the forwarder and the server
// start asynchronously) and returns the body.
func getEventually(t *testing.T, url string) string {
	t.Helper()
	var body string
	daemontest.WaitFor(t, 30*time.Second, "an answer from "+url, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		body = string(b)
		return err == nil && resp.StatusCode == http.StatusOK
	})
	return body
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// openFDs counts a process' open file descriptors.
func openFDs(t *testing.T, pid int) int {
	t.Helper()
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// assertFDsBack checks the daemon holds no more descriptors than before
// the sessions (each session's connection, FIFOs and pipes are closed).
func (f *fixture) assertFDsBack(t *testing.T, before int) {
	t.Helper()
	var now int
	daemontest.WaitFor(t, 10*time.Second, "runletd's descriptors to drop back", func() bool {
		now = openFDs(t, f.Proc.Pid())
		return now <= before
	})
}

func TestAnExecWhoseClientGoesAwayIsKilledAndAttachEndsWithTheContainer(t *testing.T) {
	f := startWithBusybox(t)
	fds := openFDs(t, f.Proc.Pid())
	pod := f.runp(t, "gone", "")
	cfg := f.containerConfigWith(t, "gone", map[string]any{"command": []string{"sh"}, "stdin": true})
	ctr := strings.TrimSpace(f.MustCrictl(t, "create", pod, cfg, filepath.Join(f.Dir, "gone-pod.json")))
	f.MustCrictl(t, "start", ctr)

	marker := "exec-marker-" + randomHex(4)
	exe := f.CrictlCommand(t, "exec", ctr, "sh", "-c", "while true; do echo "+marker+"; sleep 0.1; done")
	out, err := exe.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := exe.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	if _, err := io.ReadAtLeast(out, buf, len(marker)); err != nil {
		t.Fatalf("no output from the exec: %v", err)
	}
	exe.Process.Kill() // the client goes away mid-stream
	exe.Wait()
	daemontest.WaitFor(t, 20*time.Second, "the exec's loop to be killed", func() bool { return len(pidsRunning(marker)) == 0 })

	att := f.CrictlCommand(t, "attach", "-i", ctr)
	stdin, err := att.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if err := att.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- att.Wait() }()
	f.MustCrictl(t, "stop", "-t", "0", ctr) // the container stops under the attached client
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		att.Process.Kill()
		<-done
		t.Fatal("the attach session outlived its container")
	}
	f.MustCrictl(t, "rmp", "-f", pod)
	f.assertNothingLeft(t)
	f.assertFDsBack(t, fds)
}

// pidsRunning lists the processes whose command line holds s.
func pidsRunning(s string) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmd, []byte(s)) && running(atoi(e.Name())) {
			out = append(out, e.Name())
		}
	}
	return out
}
