package fifo

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
)

// swapForSymlink replaces dir/name, a directory, with a symlink to
// target, as a hostile writer of the pod's log directory would.
func swapForSymlink(t *testing.T, dir, name, target string) {
	t.Helper()
	if err := os.Rename(filepath.Join(dir, name), filepath.Join(dir, name+".old")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

func mustNotExist(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s exists: the open left the log directory (%v)", path, err)
	}
}

func podLogDir(t *testing.T) (pod, outside string) {
	t.Helper()
	base := t.TempDir()
	pod, outside = filepath.Join(base, "pod"), filepath.Join(base, "outside")
	for _, d := range []string{filepath.Join(pod, "ctr"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return pod, outside
}

func TestReopenOfALogWhoseDirectoryWasSwappedForASymlinkIsRefused(t *testing.T) {
	pod, outside := podLogDir(t)
	w, err := OpenLogIn(pod, "ctr/0.log")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	swapForSymlink(t, pod, "ctr", outside)
	if err := w.Reopen(); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("reopen through a symlink: %v, want InvalidArgument", err)
	}
	mustNotExist(t, filepath.Join(outside, "0.log"))
	if _, err := w.Stream(StreamStdout).Write([]byte("still here\n")); err != nil || w.Err() != nil {
		t.Fatalf("the writer lost its file: %v %v", err, w.Err())
	}
	b, _ := os.ReadFile(filepath.Join(pod, "ctr.old", "0.log"))
	if !strings.Contains(string(b), "still here") {
		t.Fatalf("the old file holds %q", b)
	}
}

func TestTheFirstOpenOfACRILogURIResolvesBeneathThePodsLogDirectory(t *testing.T) {
	pod, outside := podLogDir(t)
	uri := CRILogURI(pod, "ctr/0.log")
	swapForSymlink(t, pod, "ctr", outside)
	if _, err := OpenLogURI(uri); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("first open through a symlink: %v, want InvalidArgument", err)
	}
	mustNotExist(t, filepath.Join(outside, "0.log"))
	if _, err := OpenLogReader(pod, "ctr/0.log"); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("a reader through a symlink: %v, want InvalidArgument", err)
	}
}

func TestCRILogURIsRoundTripAndStayBeneathTheirDirectory(t *testing.T) {
	dir, rel := "/var/log/pods/ns_a b?c%d_uid", "ctr/0.log"
	gotDir, gotRel, ok, err := ParseCRILogURI(CRILogURI(dir, rel))
	if err != nil || !ok || gotDir != dir || gotRel != rel {
		t.Fatalf("round trip: %q %q %v %v", gotDir, gotRel, ok, err)
	}
	if d, r, _, err := ParseCRILogURI("crilog:///var/log/pods/p/c/0.log"); err != nil || d != "/var/log/pods/p/c" || r != "0.log" {
		t.Fatalf("without beneath: %q %q %v", d, r, err)
	}
	for _, bad := range []string{
		"crilog:///etc/passwd?beneath=%2Fvar%2Flog%2Fpods%2Fp",
		"crilog:///var/log/pods/p?beneath=%2Fvar%2Flog%2Fpods%2Fp",
		"crilog:///var/log/pods/p/c/0.log?beneath=relative",
		"crilog:///var/log/pods/p/../c/0.log",
	} {
		if _, _, _, err := ParseCRILogURI(bad); !errdefs.IsInvalidArgument(err) {
			t.Fatalf("%s: %v, want InvalidArgument", bad, err)
		}
	}
	if _, err := OpenLogIn(t.TempDir(), "../x.log"); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("a path out of the directory: %v", err)
	}
}
