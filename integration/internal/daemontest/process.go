package daemontest

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Process is a child process the test started; cleanup stops it by pid.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

// StartProcess starts name with its output in logPath.
func StartProcess(t testing.TB, logPath string, name string, args ...string) *Process {
	t.Helper()
	return StartProcessEnv(t, logPath, nil, name, args...)
}

// StartProcessEnv is StartProcess with env added to the test's environment.
func StartProcessEnv(t testing.TB, logPath string, env []string, name string, args ...string) *Process {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	p := &Process{cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() { cmd.Wait(); logf.Close(); close(p.done) }()
	t.Cleanup(func() { p.Stop(t) })
	return p
}

// Pid is the process' pid.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Stop sends SIGTERM to the process (by pid) and SIGKILL after 10s.
func (p *Process) Stop(t testing.TB) {
	if p.Exited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Errorf("pid %d ignored SIGTERM for 10s; killing it", p.cmd.Process.Pid)
		p.cmd.Process.Kill()
		<-p.done
	}
}

// Kill ends the process with SIGKILL, as a crash would, and waits for it.
func (p *Process) Kill() {
	if !p.Exited() {
		p.cmd.Process.Kill()
		<-p.done
	}
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// LogText is what the process printed so far.
func (p *Process) LogText() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// Signal sends sig to the process.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Done is closed when the process has ended.
func (p *Process) Done() <-chan struct{} { return p.done }

// ExitCode is the exit code of an ended process.
func (p *Process) ExitCode() int { return p.cmd.ProcessState.ExitCode() }

// ShimServing finds the pid of the shim serving a socket address.
func ShimServing(t testing.TB, address string) int {
	t.Helper()
	sock := strings.TrimPrefix(address, "unix://")
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(cmdline), "\x00-socket\x00"+sock) {
			var pid int
			fmt.Sscan(e.Name(), &pid)
			return pid
		}
	}
	t.Fatalf("no process serves %s", sock)
	return 0
}
