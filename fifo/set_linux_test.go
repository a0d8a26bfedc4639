package fifo

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
)

func TestNewSetCreatesNamedFIFOsWithMode0600InA0700Dir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fifos")
	s, err := NewSet(dir, "c1", true, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })

	want := map[string]string{"stdin": s.Stdin, "stdout": s.Stdout, "stderr": s.Stderr}
	for stream, path := range want {
		if path != filepath.Join(dir, "c1-"+stream) {
			t.Errorf("%s path = %q, want %q", stream, path, filepath.Join(dir, "c1-"+stream))
		}
		fi, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Type() != os.ModeNamedPipe || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want a fifo with 0600", stream, fi.Mode())
		}
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Errorf("dir mode = %v, want 0700", di.Mode().Perm())
	}
}

func TestNewSetOmitsStdinUnlessAskedAndStderrWithTerminal(t *testing.T) {
	dir := t.TempDir()
	s, err := NewSet(dir, "tty", false, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if s.Stdin != "" || s.Stderr != "" || !s.Terminal {
		t.Fatalf("set = %+v, want only stdout with Terminal", s)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "tty-stdout" {
		t.Fatalf("dir holds %v, want only tty-stdout", entries)
	}
}

func TestNewSetRejectsIDsThatAreNotSafeFileNames(t *testing.T) {
	dir := t.TempDir()
	for name, id := range map[string]string{
		"empty":    "",
		"slash":    "a/b",
		"dotdot":   "..",
		"dotdot-x": "x..y",
		"nul":      "a\x00b",
		"too long": strings.Repeat("x", 129),
	} {
		t.Run(name, func(t *testing.T) {
			s, err := NewSet(dir, id, true, false)
			if !errdefs.IsInvalidArgument(err) {
				t.Fatalf("NewSet(%q) = %v, %v; want InvalidArgument", id, s, err)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("rejected ids left %v behind", entries)
	}
}

func TestNewSetAcceptsA128ByteID(t *testing.T) {
	s, err := NewSet(t.TempDir(), strings.Repeat("x", 128), false, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
}

func TestNewSetOverAnExistingFIFOFailsAlreadyExistsAndCleansUp(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "c1-stderr"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := NewSet(dir, "c1", true, false)
	if !errdefs.IsAlreadyExists(err) {
		t.Fatalf("err = %v, want AlreadyExists", err)
	}
	for _, name := range []string{"c1-stdin", "c1-stdout"} {
		if _, err := os.Lstat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind (stat err %v)", name, err)
		}
	}
}

func TestSetCloseRemovesFIFOsAndTheEmptyDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fifos")
	s, err := NewSet(dir, "c1", true, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("dir still there (stat err %v)", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v, want nil", err)
	}
}

func TestSetCloseKeepsADirHoldingOtherFiles(t *testing.T) {
	dir := t.TempDir()
	a, err := NewSet(dir, "a", false, false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSet(dir, "b", false, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(b.Stdout); err != nil {
		t.Fatalf("closing a removed b's fifo: %v", err)
	}
}
