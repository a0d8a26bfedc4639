package reaper

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"testing"
	"time"

	runc "github.com/containerd/go-runc"
	"golang.org/x/sys/unix"
)

// reapInBackground makes the test process a subreaper that reaps on
// SIGCHLD, as a serving shim does.
func reapInBackground(t *testing.T, m *Monitor) {
	t.Helper()
	if err := SetSubreaper(); err != nil {
		t.Fatal(err)
	}
	ch := make(chan os.Signal, 16)
	signal.Notify(ch, unix.SIGCHLD)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ch:
				m.Reap()
			case <-done:
				return
			}
		}
	}()
	t.Cleanup(func() { signal.Stop(ch); close(done) })
}

func newMonitor() *Monitor { return &Monitor{subs: map[chan runc.Exit]*Subscription{}} }

func exitOf(pid int) runc.Exit { return runc.Exit{Pid: pid, Timestamp: time.Now()} }

func TestMonitorWaitReturnsExitCodeOfCommandItStarted(t *testing.T) {
	m := newMonitor()
	reapInBackground(t, m)
	cmd := exec.Command("sh", "-c", "exit 7")
	ec, err := m.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	status, err := m.Wait(cmd, ec)
	if err != nil || status != 7 {
		t.Fatalf("Wait = %d, %v; want 7", status, err)
	}
	if n := len(m.subs); n != 0 {
		t.Fatalf("%d subscriptions left after Wait", n)
	}
}

func TestMonitorReportsSignalDeathAs128PlusSignal(t *testing.T) {
	m := newMonitor()
	reapInBackground(t, m)
	cmd := exec.Command("sh", "-c", "kill -9 $$")
	ec, err := m.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := m.Wait(cmd, ec); status != 137 {
		t.Fatalf("status = %d, want 137", status)
	}
}

func TestSubscriberHearsOrphanedGrandchildExit(t *testing.T) {
	m := newMonitor()
	reapInBackground(t, m)
	sub := m.Subscribe()
	defer m.Unsubscribe(sub)
	// The child prints the pid of a background grandchild and exits; the
	// grandchild is re-parented to this subreaper and exits with 5.
	out, err := exec.Command("sh", "-c", "(sleep 0.2; exit 5) & echo $!").Output()
	if err != nil && len(out) == 0 {
		t.Fatal(err)
	}
	var pid int
	if _, err := fmt.Sscan(strings.TrimSpace(string(out)), &pid); err != nil {
		t.Fatalf("grandchild pid %q: %v", out, err)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-sub.C:
			if e.Pid == pid {
				if e.Status != 5 {
					t.Fatalf("grandchild status %d, want 5", e.Status)
				}
				return
			}
		case <-deadline:
			t.Fatal("grandchild exit never reaped")
		}
	}
}

func TestUnsubscribeReleasesABlockedBroadcast(t *testing.T) {
	m := newMonitor()
	sub := m.Subscribe()
	for i := 0; i < cap(sub.C); i++ {
		sub.C <- exitOf(i)
	}
	done := make(chan struct{})
	go func() { m.broadcast(exitOf(-1)); close(done) }()
	m.Unsubscribe(sub)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("broadcast still blocked on a removed subscriber")
	}
}
