package fifo

import (
	"context"
	"io"
	"os"
	"testing"
)

// newStdinFixture makes a set with stdin and a process-side stdin pipe
// whose write end the StdinCopier owns; it returns the copier and the
// process' end.
func newStdinFixture(t *testing.T) (*Set, *StdinCopier, *os.File) {
	t.Helper()
	set, err := NewSet(t.TempDir(), "c1", true, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = set.Close() })
	pr, pw := newPipe(t)
	s, err := NewStdinCopier(set.Stdin, pw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return set, s, pr
}

// clientWrites opens the stdin FIFO as a client, writes msg and closes.
func clientWrites(t *testing.T, path, msg string) {
	t.Helper()
	w, err := OpenWriter(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, msg); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// readN reads exactly len(want) bytes from r and compares.
func readN(t *testing.T, r io.Reader, want string) {
	t.Helper()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(r, got); err != nil || string(got) != want {
		t.Fatalf("read %q, %v; want %q", got, err, want)
	}
}

func TestStdinStaysOpenAfterClientsCloseUntilCloseStdin(t *testing.T) {
	set, s, stdin := newStdinFixture(t)
	s.Start(context.Background())

	clientWrites(t, set.Stdin, "one")
	readN(t, stdin, "one")
	// Had the first client's close reached the process as EOF, this
	// second client's bytes could not arrive.
	clientWrites(t, set.Stdin, "two")
	readN(t, stdin, "two")

	clientWrites(t, set.Stdin, "three")
	if err := s.CloseStdin(context.Background()); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(stdin) // ends only when stdin is closed
	if err != nil || string(rest) != "three" {
		t.Fatalf("after CloseStdin the process read %q, %v; want \"three\" then EOF", rest, err)
	}
}

func TestCloseStdinDeliversBytesBufferedBeforeTheCopyRan(t *testing.T) {
	set, s, stdin := newStdinFixture(t)
	clientWrites(t, set.Stdin, "early bytes")
	s.Start(context.Background())
	if err := s.CloseStdin(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(stdin)
	if err != nil || string(got) != "early bytes" {
		t.Fatalf("process read %q, %v", got, err)
	}
}

func TestCloseStdinIgnoresAProcessThatClosedItsStdin(t *testing.T) {
	set, s, stdin := newStdinFixture(t)
	s.Start(context.Background())
	if err := stdin.Close(); err != nil {
		t.Fatal(err)
	}
	clientWrites(t, set.Stdin, "nobody reads this")
	if err := s.CloseStdin(context.Background()); err != nil {
		t.Fatalf("CloseStdin = %v, want nil", err)
	}
}

func TestCloseStdinBeforeStartClosesStdin(t *testing.T) {
	_, s, stdin := newStdinFixture(t)
	if err := s.CloseStdin(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(stdin); err != nil || len(got) != 0 {
		t.Fatalf("process read %q, %v; want EOF", got, err)
	}
}

func TestNewStdinCopierRejectsAPathThatIsNotAFIFO(t *testing.T) {
	path := writeDataFile(t, []byte("plain file"))
	_, pw := newPipe(t)
	if _, err := NewStdinCopier(path, pw); err == nil {
		t.Fatal("NewStdinCopier accepted a regular file")
	}
}
