package conformance

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/runlet/runlet/integration/internal/shimtest"
	"github.com/runlet/runlet/proto/events"
)

func init() {
	register("stdio",
		check{"EmptyStdioPathsAreDevNull", stdioDevNull},
		check{"TwentyMiBThroughExecStdoutIsByteIdentical", stdio20MiB},
		check{"EightMiBWrittenAtExitIsFullyDelivered", stdio8MiBAtExit},
		check{"ExitCodesArePassedThrough", stdioExitCodes},
		check{"StdinNobodyReadsDoesNotWedgeTheShim", stdioUnreadStdin},
	)
}

// hashSink counts and hashes what it is written.
type hashSink struct {
	mu sync.Mutex
	h  hash.Hash
	n  int64
}

func newHashSink() *hashSink { return &hashSink{h: sha256.New()} }

func (s *hashSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n += int64(len(p))
	return s.h.Write(p)
}

func (s *hashSink) sum() (int64, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n, hex.EncodeToString(s.h.Sum(nil))
}

// stdioDevNull: a task created with empty stdin/stdout/stderr paths gets
// /dev/null on fds 0, 1 and 2.
func stdioDevNull(t T, x *tx) {
	b := x.bundle("sleep", "3600")
	s := x.start(b)
	x.create(s, b, nil)
	pid := x.startTask(s, b.ID, "")
	for fd := 0; fd < 3; fd++ {
		target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, fd))
		if err != nil {
			t.Errorf("fd %d of the init: %v", fd, err)
			continue
		}
		if target != "/dev/null" {
			t.Errorf("fd %d of a task with empty stdio paths is %s, want /dev/null", fd, target)
		}
	}
	x.stop(s, b.ID)
}

// stdio20MiB: 20 MiB of random bytes through an exec's stdout arrive
// byte-identical (the container hashes what it sends on stderr).
func stdio20MiB(t T, x *tx) {
	s, b, _, _ := x.run("sleep", "3600")
	sink := newHashSink()
	io := x.NewStdio(shimtest.StdioOptions{Stdout: sink})
	const size = 20 << 20
	x.exec(s, b, "big", io, false, "sh", "-c",
		fmt.Sprintf("head -c %d /dev/urandom > /dev/shm/blob && sha256sum /dev/shm/blob >&2 && cat /dev/shm/blob && rm /dev/shm/blob", size))
	if w := x.wait(s, b.ID, "big"); w.GetExitStatus() != 0 {
		t.Errorf("exec exit %d (stderr %q)", w.GetExitStatus(), io.Err.String())
	}
	if err := io.WaitEOF(x.within(2 * time.Minute)); err != nil {
		t.Fatal(err)
	}
	n, sum := sink.sum()
	want, _, _ := strings.Cut(io.Err.String(), " ")
	if n != size || sum != want {
		t.Errorf("received %d bytes sha256 %s; the container sent %d bytes sha256 %s", n, sum, size, want)
	}
	x.deleteTask(s, b.ID, "big")
	x.stop(s, b.ID)
}

// stdio8MiBAtExit: a process that writes 8 MiB and exits at once loses
// nothing: once Wait has returned and the exit event is out, the output
// streams reach EOF holding every byte.
func stdio8MiBAtExit(t T, x *tx) {
	const size = 8 << 20
	b := x.bundle("sh", "-c", fmt.Sprintf("head -c %d /dev/urandom > /dev/shm/blob && sha256sum /dev/shm/blob >&2 && exec cat /dev/shm/blob", size))
	s := x.start(b)
	sink := newHashSink()
	io := x.NewStdio(shimtest.StdioOptions{Stdout: sink})
	x.create(s, b, io)
	x.startTask(s, b.ID, "")
	w := x.wait(s, b.ID, "")
	atWait, _ := sink.sum()
	waitEvent[*events.TaskExit](x, "/tasks/exit", b.ID, nil)
	pipeSize, perr := io.StdoutPipeSize()
	if err := io.WaitEOF(x.within(2 * time.Minute)); err != nil {
		t.Fatal(err)
	}
	n, sum := sink.sum()
	t.Logf("%d of %d bytes were read when Wait returned (FIFO buffer %d bytes)", atWait, n, pipeSize)
	if x.s.cfg.claims(OutputBeforeExit) {
		if perr != nil {
			t.Errorf("stdout FIFO size: %v", perr)
		} else if atWait < size-int64(pipeSize) {
			t.Errorf("Wait returned when %d of %d bytes were read: more than the FIFO's %d bytes were still in flight, but the shim claims %s", atWait, size, pipeSize, OutputBeforeExit)
		}
	}
	if w.GetExitStatus() != 0 {
		t.Errorf("exit %d (stderr %q)", w.GetExitStatus(), io.Err.String())
	}
	want, _, _ := strings.Cut(io.Err.String(), " ")
	if n != size || sum != want {
		t.Errorf("received %d bytes sha256 %s; the container sent %d bytes sha256 %s", n, sum, size, want)
	}
	x.deleteTask(s, b.ID, "")
}

// stdioExitCodes: the exit code of the init is passed through unchanged.
func stdioExitCodes(t T, x *tx) {
	for _, code := range []int{0, 1, 3, 42, 255} {
		s, b, _, _ := x.run("sh", "-c", fmt.Sprintf("exit %d", code))
		if w := x.wait(s, b.ID, ""); w.GetExitStatus() != uint32(code) {
			t.Errorf("exit %d: Wait says %d", code, w.GetExitStatus())
		}
		exit := waitEvent[*events.TaskExit](x, "/tasks/exit", b.ID, nil)
		if exit.GetExitStatus() != uint32(code) {
			t.Errorf("exit %d: /tasks/exit says %d", code, exit.GetExitStatus())
		}
		if d := x.deleteTask(s, b.ID, ""); d.GetExitStatus() != uint32(code) {
			t.Errorf("exit %d: Delete says %d", code, d.GetExitStatus())
		}
	}
}

// stdioUnreadStdin: a process that exits without reading its stdin while
// the client keeps writing (more than any pipe holds) neither blocks its
// Wait and Delete nor wedges the shim for the next exec.
func stdioUnreadStdin(t T, x *tx) {
	s, b, _, _ := x.run("sleep", "3600")
	io := x.NewStdio(shimtest.StdioOptions{Stdin: true})
	x.exec(s, b, "deaf", io, false, "sh", "-c", "echo exiting")
	wrote := make(chan error, 1)
	wctx := x.within(2 * time.Minute)
	go func() { wrote <- io.Write(wctx, make([]byte, 4<<20)) }()
	if w := x.wait(s, b.ID, "deaf"); w.GetExitStatus() != 0 {
		t.Errorf("exit %d", w.GetExitStatus())
	}
	x.output(io.Out, "stdout", "exiting")
	x.deleteTask(s, b.ID, "deaf")
	// The client's write ends one way or another once the shim let go.
	_ = io.CloseStdin()
	select {
	case err := <-wrote:
		t.Logf("client write of 4 MiB nobody reads: %v", err)
	case <-wctx.Done():
		t.Errorf("the client's write never returned")
	}
	next := x.NewStdio(shimtest.StdioOptions{})
	x.exec(s, b, "next", next, false, "echo", "still-serving")
	x.wait(s, b.ID, "next")
	x.output(next.Out, "stdout", "still-serving")
	x.deleteTask(s, b.ID, "next")
	x.stop(s, b.ID)
}
