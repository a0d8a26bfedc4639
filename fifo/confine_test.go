package fifo

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
)

// confineFixture is a log dir holding symlinks in and out of it.
func confineFixture(t *testing.T) (dir, outside string) {
	t.Helper()
	base := t.TempDir()
	dir, outside = filepath.Join(base, "logs"), filepath.Join(base, "outside")
	for _, d := range []string{filepath.Join(dir, "ctr"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"out":      outside,
		"out-file": filepath.Join(outside, "x.log"),
		"dangling": filepath.Join(outside, "missing"),
		"in":       "ctr",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir, outside
}

func TestConfinedPathRejectsEscapes(t *testing.T) {
	dir, outside := confineFixture(t)
	for name, rel := range map[string]string{
		"dotdot":                "../x",
		"dotdot inside":         "ctr/../../x",
		"absolute outside":      filepath.Join(outside, "x.log"),
		"absolute etc":          "/etc/passwd",
		"the dir itself":        ".",
		"symlink dir out":       "out/x.log",
		"symlink file out":      "out-file",
		"dangling symlink out":  "dangling/x.log",
		"dangling symlink last": "dangling",
		"nul":                   "a\x00b",
		"empty":                 "",
	} {
		t.Run(name, func(t *testing.T) {
			p, err := ConfinedPath(dir, rel)
			if !errdefs.IsInvalidArgument(err) {
				t.Fatalf("ConfinedPath(%q) = %q, %v; want InvalidArgument", rel, p, err)
			}
		})
	}
}

func TestConfinedPathResolvesPathsInside(t *testing.T) {
	dir, _ := confineFixture(t)
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	for rel, want := range map[string]string{
		"ctr/0.log":                       filepath.Join(realDir, "ctr/0.log"),
		"new/sub/0.log":                   filepath.Join(realDir, "new/sub/0.log"),
		"ctr/../1.log":                    filepath.Join(realDir, "1.log"),
		"in/0.log":                        filepath.Join(realDir, "ctr/0.log"),
		filepath.Join(dir, "ctr", "abs"):  filepath.Join(realDir, "ctr/abs"),
		filepath.Join(dir, "in", "2.log"): filepath.Join(realDir, "ctr/2.log"),
	} {
		got, err := ConfinedPath(dir, rel)
		if err != nil || got != want {
			t.Errorf("ConfinedPath(%q) = %q, %v; want %q", rel, got, err, want)
		}
	}
}
