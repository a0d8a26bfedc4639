package fifo

import (
	"context"
	"errors"
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// newPty opens a pseudo-terminal pair, closed at cleanup.
func newPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { _ = master.Close() })
	var n uint32
	raw, err := master.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	ctlErr := raw.Control(func(fd uintptr) {
		if err = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); err == nil {
			n, err = unix.IoctlGetUint32(int(fd), unix.TIOCGPTN)
		}
	})
	if err = errors.Join(ctlErr, err); err != nil {
		t.Fatal(err)
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = slave.Close() })
	return master, slave
}

func TestCopierTakesAPtyMastersEIOAsTheEndOfOutput(t *testing.T) {
	master, slave := newPty(t)
	dst := &memDst{}
	c := startCopier(t, dst, master)
	if _, err := slave.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	if err := slave.Close(); err != nil {
		t.Fatal(err)
	}
	// With the slave gone the master reads EIO: only the end of output
	// lets Drain return nil with the copier done.
	if err := c.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := string(dst.bytes()); got != "hello\r\n" {
		t.Fatalf("copied %q, want the tty's \"hello\\r\\n\"", got)
	}
}

func TestDrainSeesPtyOutputStillInTheTTYLayer(t *testing.T) {
	master, slave := newPty(t) // slave stays open, as a grandchild would hold it
	dst := &memDst{}
	c := startCopier(t, dst, master)
	for _, line := range []string{"one\n", "two\n"} {
		if _, err := slave.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
		// The bytes may still sit in the tty's flip buffer, invisible to
		// FIONREAD on the master: Drain must see them anyway.
		if err := c.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got := string(dst.bytes()); got != "one\r\ntwo\r\n" {
		t.Fatalf("copied %q", got)
	}
}

func TestCopierCopesWithAMasterPutInBlockingModeByFd(t *testing.T) {
	master, slave := newPty(t)
	master.Fd() // puts the descriptor in blocking mode, as a shim's console.Fd() call would
	dst := &memDst{}
	c := startCopier(t, dst, master)
	for _, line := range []string{"one\n", "two\n"} {
		if _, err := slave.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
		if err := c.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if got := string(dst.bytes()); got != "one\r\ntwo\r\n" {
		t.Fatalf("copied %q", got)
	}
}
