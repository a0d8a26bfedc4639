package container

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
)

func TestResolveInRootFollowsSymlinksWithoutLeavingTheRoot(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"etc", "usr/share", "data"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"abs":        "/etc",
		"rel":        "usr/share",
		"usr/up":     "../etc",
		"escape":     "../../../..",
		"escapeabs":  "/../../..",
		"loop":       "loop",
		"data/chain": "/abs",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"etc", "etc"},
		{"/etc", "etc"},
		{"abs", "etc"},
		{"abs/passwd", "etc/passwd"},
		{"rel", "usr/share"},
		{"usr/up", "etc"},
		{"escape", ""},
		{"escape/etc", "etc"},
		{"escapeabs", ""},
		{"../../etc", "etc"},
		{"data/chain/x", "etc/x"},
		{"missing/../etc", "etc"},
		{"missing/a/../b", "missing/b"},
		{"", ""},
	} {
		got, err := resolveInRoot(root, tc.in)
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		if want := filepath.Join(root, tc.want); got != want {
			t.Errorf("%q resolved to %q, want %q", tc.in, got, want)
		}
	}
	if _, err := resolveInRoot(root, "loop/x"); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("a symlink loop: %v, want InvalidArgument", err)
	}
}
