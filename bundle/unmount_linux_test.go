package bundle

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("mounts: skipped in -short mode")
	}
	if os.Geteuid() != 0 {
		t.Skip("mounts: needs root")
	}
}

// mountTmpfs mounts a tmpfs at dir and makes sure the test leaves it
// unmounted, whatever happens.
func mountTmpfs(t *testing.T, dir string) {
	t.Helper()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mount tmpfs at %s: %v", dir, err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
}

// mountsUnder lists the mount points at or below dir from
// /proc/self/mountinfo.
func mountsUnder(t *testing.T, dir string) []string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil
	}
	infos, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
	if err != nil {
		t.Fatal(err)
	}
	var points []string
	for _, m := range infos {
		points = append(points, m.Mountpoint)
	}
	return points
}

func assertNoMountsUnder(t *testing.T, dir string) {
	t.Helper()
	if left := mountsUnder(t, dir); len(left) > 0 {
		t.Fatalf("mounts left under %s: %s", dir, strings.Join(left, ", "))
	}
}

func TestDeleteUnmountsStackedNestedAndBusyRootfsMounts(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	b, err := New(ctx, t.TempDir(), "ns", "mounted", []byte(testSpec))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Delete(ctx) })
	mountTmpfs(t, b.Rootfs())
	mountTmpfs(t, b.Rootfs()) // stacked on the first
	nested := filepath.Join(b.Rootfs(), "nested")
	if err := os.Mkdir(nested, 0o700); err != nil {
		t.Fatal(err)
	}
	mountTmpfs(t, nested)
	// An open file keeps the nested mount busy: only MNT_DETACH removes it.
	busy, err := os.Create(filepath.Join(nested, "open"))
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if got := len(mountsUnder(t, b.Path)); got != 3 {
		t.Fatalf("set up %d mounts, want 3", got)
	}

	if err := b.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	assertNoMountsUnder(t, b.Path)
	if _, err := os.Stat(b.Path); !os.IsNotExist(err) {
		t.Fatalf("bundle dir still there: %v", err)
	}
}

func TestUnmountAllIsIdempotentAndIgnoresMissingTargets(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	dir := t.TempDir()
	mountTmpfs(t, dir)
	for i := range 2 {
		if err := UnmountAll(ctx, dir); err != nil {
			t.Fatalf("UnmountAll #%d: %v", i+1, err)
		}
	}
	assertNoMountsUnder(t, dir)
	if err := UnmountAll(ctx, filepath.Join(dir, "missing")); err != nil {
		t.Fatalf("UnmountAll(missing) = %v", err)
	}
}

func TestUnmountAllRefusesRootAndRelativePaths(t *testing.T) {
	for _, p := range []string{"/", "/.", "relative"} {
		if err := UnmountAll(context.Background(), p); err == nil {
			t.Errorf("UnmountAll(%q) succeeded", p)
		}
	}
}
