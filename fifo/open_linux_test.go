package fifo

import (
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
)

// newStdoutFIFO makes a set and returns its stdout FIFO path.
func newStdoutFIFO(t *testing.T) string {
	t.Helper()
	set, err := NewSet(t.TempDir(), "c1", false, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = set.Close() })
	return set.Stdout
}

func TestOpenWriterReturnsWithoutAReaderAndCancelEndsItsWrite(t *testing.T) {
	path := newStdoutFIFO(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := OpenWriter(ctx, path) // no reader: must not block
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	written := writeAll(w, []byte("x"))
	cancel()
	if err := <-written; err == nil {
		t.Fatal("write succeeded though no reader ever opened the fifo")
	}
}

func TestOpenRefusesPathsThatAreNotFIFOs(t *testing.T) {
	ctx := context.Background()
	file := writeDataFile(t, []byte("x"))
	if _, err := OpenReader(ctx, file); !errdefs.IsInvalidArgument(err) {
		t.Errorf("OpenReader(regular file) = %v, want InvalidArgument", err)
	}
	if _, err := OpenOutput(file); !errdefs.IsInvalidArgument(err) {
		t.Errorf("OpenOutput(regular file) = %v, want InvalidArgument", err)
	}
	missing := filepath.Join(t.TempDir(), "missing")
	if _, err := OpenWriter(ctx, missing); !errdefs.IsNotFound(err) {
		t.Errorf("OpenWriter(missing) = %v, want NotFound", err)
	}
}

func TestOpenOutputKeepsWritingWhileTheReaderIsAway(t *testing.T) {
	ctx := context.Background()
	path := newStdoutFIFO(t)
	out, err := OpenOutput(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = out.Close() })

	first, err := OpenReader(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-writeAll(out, []byte("a")); err != nil {
		t.Fatal(err)
	}
	readN(t, first, "a")
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-writeAll(out, []byte("b")); err != nil {
		t.Fatalf("write with the reader gone = %v, want it kept for the next reader", err)
	}
	second, err := OpenReader(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = second.Close() })
	readN(t, second, "b")
}

func TestSetOpenConnectsTheClientEndsToTheShimEnds(t *testing.T) {
	ctx := context.Background()
	set, err := NewSet(t.TempDir(), "c1", true, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = set.Close() })
	pipes, err := set.Open(ctx) // before the shim: must not block
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pipes.Close() })

	for _, c := range []struct {
		path   string
		client io.Reader
	}{{set.Stdout, pipes.Stdout}, {set.Stderr, pipes.Stderr}} {
		out, err := OpenOutput(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if err := <-writeAll(out, []byte(filepath.Base(c.path))); err != nil {
			t.Fatal(err)
		}
		readN(t, c.client, filepath.Base(c.path))
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
	}

	stdinR, stdinW := newPipe(t)
	s, err := NewStdinCopier(set.Stdin, stdinW)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	s.Start(ctx)
	if err := <-writeAll(pipes.Stdin, []byte("input")); err != nil {
		t.Fatal(err)
	}
	readN(t, stdinR, "input")
}
