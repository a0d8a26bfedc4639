package fifo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

func TestCopierCopies20MiBThroughAFIFOByteForByte(t *testing.T) {
	ctx := context.Background()
	set, err := NewSet(t.TempDir(), "c1", false, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = set.Close() })
	client, err := OpenReader(ctx, set.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	out, err := OpenOutput(set.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := newPipe(t)
	c := startCopier(t, out, pr)

	data := randomBytes(20<<20, 1)
	written := make(chan error, 1)
	go func() {
		_, err := pw.Write(data)
		written <- err
		_ = pw.Close()
	}()
	h := sha256.New()
	n, err := io.Copy(h, client)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256(data); n != int64(len(data)) || !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatalf("client read %d bytes, want %d identical bytes", n, len(data))
	}
	if err := c.Drain(ctx); err != nil {
		t.Fatalf("Drain after end of source = %v", err)
	}
}

// runWriter runs script under sh with stdout on a pipe whose copy to a
// memDst starts at once; it returns after the shell exited, with the
// copier. Everything the script leaves running is killed at cleanup.
func runWriter(t *testing.T, script string, args ...string) (*Copier, *memDst) {
	t.Helper()
	pr, pw := newPipe(t)
	dst := &memDst{}
	c := startCopier(t, dst, pr)
	cmd := exec.Command("sh", append([]string{"-c", script, "sh"}, args...)...)
	cmd.Stdout = pw
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	return c, dst
}

// writeDataFile writes data to a file in a temporary dir.
func writeDataFile(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDrainHasEvery8MiBByteOfAProcessThatExited(t *testing.T) {
	data := randomBytes(8<<20, 2)
	c, dst := runWriter(t, `cat "$1"`, writeDataFile(t, data))
	if err := c.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := dst.bytes(); !bytes.Equal(got, data) {
		t.Fatalf("copied %d bytes, want the %d written", len(got), len(data))
	}
}

func TestDrainReturnsWhileABackgroundGrandchildHoldsThePipe(t *testing.T) {
	data := randomBytes(8<<20, 3)
	c, dst := runWriter(t, `cat "$1"; sleep 600 & exit 0`, writeDataFile(t, data))
	if err := c.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := dst.bytes(); !bytes.Equal(got, data) {
		t.Fatalf("copied %d bytes, want the %d written", len(got), len(data))
	}
}

func TestDrainReturnsWhileAWriterKeepsThePipeOpenAndTheCopyGoesOn(t *testing.T) {
	pr, pw := newPipe(t)
	dst := &memDst{}
	c := startCopier(t, dst, pr)
	first, second := randomBytes(1<<20, 4), []byte("later output")
	for _, part := range [][]byte{first, second} {
		if err := <-writeAll(pw, part); err != nil {
			t.Fatal(err)
		}
		if err := c.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got := dst.bytes(); !bytes.Equal(got, append(first, second...)) {
		t.Fatalf("copied %d bytes, want %d", len(got), len(first)+len(second))
	}
}

// gateDst blocks every Write until the test releases it.
type gateDst struct {
	memDst
	entered chan struct{}
	release chan struct{}
}

func (g *gateDst) Write(p []byte) (int, error) {
	g.entered <- struct{}{}
	<-g.release
	return g.memDst.Write(p)
}

func TestDrainWaitsForAWriteInFlight(t *testing.T) {
	pr, pw := newPipe(t)
	dst := &gateDst{entered: make(chan struct{}, 1), release: make(chan struct{})}
	c := startCopier(t, dst, pr)
	if err := <-writeAll(pw, []byte("in flight")); err != nil {
		t.Fatal(err)
	}
	<-dst.entered // the pipe is empty now, the bytes are in the copier's hands
	if err := c.Drain(cancelled()); !errdefs.IsCanceled(err) {
		t.Fatalf("Drain with a write in flight = %v, want the context's Canceled", err)
	}
	close(dst.release)
	if err := c.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := string(dst.bytes()); got != "in flight" {
		t.Fatalf("copied %q", got)
	}
}

func TestDrainFlushesTheLogStreamsUnterminatedLine(t *testing.T) {
	w, path := openTestLog(t)
	pr, pw := newPipe(t)
	c := startCopier(t, w.Stream(StreamStdout), pr)
	if err := <-writeAll(pw, []byte("done\nlast words")); err != nil {
		t.Fatal(err)
	}
	if err := c.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	assertRecords(t, readRecords(t, path), []record{
		{StreamStdout, false, "done"},
		{StreamStdout, true, "last words"},
	})
}

func TestCopierCloseEndsAWriteStuckOnAFullFIFO(t *testing.T) {
	set, err := NewSet(t.TempDir(), "c1", false, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = set.Close() })
	out, err := OpenOutput(set.Stdout) // nobody reads it
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := newPipe(t)
	c, err := NewCopier(out, pr)
	if err != nil {
		t.Fatal(err)
	}
	c.Start(context.Background())
	fillFIFO(t, set.Stdout)
	if err := <-writeAll(pw, []byte("stuck")); err != nil {
		t.Fatal(err)
	}
	if err := c.Drain(cancelled()); !errdefs.IsCanceled(err) {
		t.Fatalf("Drain = %v, want Canceled while output is stuck", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Drain(context.Background()); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("Drain after Close = %v, want FailedPrecondition", err)
	}
}

// fillFIFO fills the FIFO at path to its capacity, through an end of its
// own that it closes after.
func fillFIFO(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	size, err := unix.FcntlInt(f.Fd(), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := f.Write(make([]byte, size)); err != nil || n != size {
		t.Fatalf("filling the fifo: wrote %d of %d: %v", n, size, err)
	}
}

func TestCopierStopsWhenItsStartContextIsCancelled(t *testing.T) {
	pr, _ := newPipe(t)
	dst := &memDst{onClose: make(chan struct{})}
	c, err := NewCopier(dst, pr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	c.Start(ctx)
	cancel()
	<-dst.onClose // the pipe's writer stays open: only the stop ends the copy
	if err := c.Drain(context.Background()); !errdefs.IsCanceled(err) {
		t.Fatalf("Drain after cancel = %v, want Canceled", err)
	}
}

func TestDrainBeforeStartFailsPrecondition(t *testing.T) {
	pr, _ := newPipe(t)
	c, err := NewCopier(&memDst{}, pr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Drain(context.Background()); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("Drain = %v, want FailedPrecondition", err)
	}
}

func TestNewCopierRejectsABlockingDescriptor(t *testing.T) {
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	r := os.NewFile(uintptr(fds[0]), "blocking-r")
	t.Cleanup(func() { _ = r.Close(); _ = syscall.Close(fds[1]) })
	if _, err := NewCopier(&memDst{}, r); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("NewCopier = %v, want InvalidArgument", err)
	}
}
