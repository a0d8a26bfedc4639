package bundle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// mountTarget returns an empty directory to mount on, unmounted again at
// the end of the test whatever happened.
func mountTarget(t *testing.T) string {
	t.Helper()
	target := filepath.Join(t.TempDir(), "rootfs")
	if err := os.Mkdir(target, 0o711); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := UnmountAll(context.Background(), target); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return target
}

func mountInfoAt(t *testing.T, point string) *mountinfo.Info {
	t.Helper()
	infos, err := mountinfo.GetMounts(mountinfo.SingleEntryFilter(point))
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) == 0 {
		t.Fatalf("nothing mounted at %s", point)
	}
	return infos[len(infos)-1]
}

func hasOption(options, want string) bool {
	return slices.Contains(strings.Split(options, ","), want)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func assertFile(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil || string(got) != want {
		t.Errorf("%s = %q, %v; want %q", path, got, err, want)
	}
}

func TestMountAllBindShowsSourceAndUnmountAllRemovesIt(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "hello"), "hi")
	target := mountTarget(t)

	if err := MountAll(ctx, []Mount{{Type: "bind", Source: src, Options: []string{"rbind", "rw"}}}, target); err != nil {
		t.Fatal(err)
	}
	assertFile(t, filepath.Join(target, "hello"), "hi")
	if info := mountInfoAt(t, target); !hasOption(info.Options, "rw") {
		t.Errorf("bind mount options %q, want rw", info.Options)
	}
	if err := UnmountAll(ctx, target); err != nil {
		t.Fatal(err)
	}
	assertNoMountsUnder(t, target)
}

// A read-only rbind must be read-only everywhere, submounts included, and
// must not change the source.
func TestMountAllReadOnlyRbindIsReadOnlyIncludingSubmounts(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	src := t.TempDir()
	sub := filepath.Join(src, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	mountTmpfs(t, sub)
	target := mountTarget(t)

	m := Mount{Type: "bind", Source: src, Options: []string{"rbind", "ro", "nosuid", "nodev"}}
	if err := MountAll(ctx, []Mount{m}, target); err != nil {
		t.Fatal(err)
	}
	for _, point := range []string{target, filepath.Join(target, "sub")} {
		info := mountInfoAt(t, point)
		for _, opt := range []string{"ro", "nosuid", "nodev"} {
			if !hasOption(info.Options, opt) {
				t.Errorf("%s options %q lack %s", point, info.Options, opt)
			}
		}
		err := os.WriteFile(filepath.Join(point, "x"), nil, 0o600)
		if !errors.Is(err, unix.EROFS) {
			t.Errorf("write below %s = %v, want EROFS", point, err)
		}
	}
	if err := os.WriteFile(filepath.Join(sub, "x"), nil, 0o600); err != nil {
		t.Errorf("source became read-only: %v", err)
	}
}

func TestMountAllAppliesPropagation(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	for _, tc := range []struct {
		option string
		shared bool
	}{{"rshared", true}, {"rprivate", false}} {
		target := mountTarget(t)
		m := Mount{Type: "tmpfs", Source: "tmpfs", Options: []string{tc.option}}
		if err := MountAll(ctx, []Mount{m}, target); err != nil {
			t.Fatal(err)
		}
		info := mountInfoAt(t, target)
		if got := strings.Contains(info.Optional, "shared:"); got != tc.shared {
			t.Errorf("%s: optional fields %q, shared = %v, want %v", tc.option, info.Optional, got, tc.shared)
		}
	}
}

func TestMountAllGenericTypeParsesFlagsAndPassesData(t *testing.T) {
	requireRoot(t)
	target := mountTarget(t)
	m := Mount{Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "noexec", "ro", "size=1m", "mode=0750"}}
	if err := MountAll(context.Background(), []Mount{m}, target); err != nil {
		t.Fatal(err)
	}
	info := mountInfoAt(t, target)
	for _, opt := range []string{"ro", "nosuid", "nodev", "noexec"} {
		if !hasOption(info.Options, opt) {
			t.Errorf("options %q lack %s", info.Options, opt)
		}
	}
	if info.FSType != "tmpfs" || !hasOption(info.VFSOptions, "size=1024k") || !hasOption(info.VFSOptions, "mode=750") {
		t.Errorf("got %s with %q, want tmpfs with size=1024k,mode=750", info.FSType, info.VFSOptions)
	}
}

func TestMountAllUnknownFilesystemOptionIsInvalidArgument(t *testing.T) {
	requireRoot(t)
	target := mountTarget(t)
	err := MountAll(context.Background(), []Mount{{Type: "tmpfs", Source: "tmpfs", Options: []string{"bogus=1"}}}, target)
	if !errdefs.IsInvalidArgument(err) {
		t.Fatalf("MountAll = %v, want InvalidArgument", err)
	}
	assertNoMountsUnder(t, target)
}

// overlayDirs creates n lowerdirs (lower 0 on top) below a common parent
// whose name is prefixLen bytes long, like containerd's snapshot dirs
// (".../snapshots/<n>/fs"), each with its own file and a shared one, plus
// upper and work dirs.
func overlayDirs(t *testing.T, base string, n int, prefixLen int) (lowers []string, upper, work string) {
	t.Helper()
	parent := filepath.Join(base, strings.Repeat("s", prefixLen))
	for i := range n {
		dir := filepath.Join(parent, fmt.Sprint(i), "fs")
		writeFile(t, filepath.Join(dir, fmt.Sprintf("only-%d", i)), fmt.Sprint(i))
		writeFile(t, filepath.Join(dir, "shared"), fmt.Sprint(i))
		lowers = append(lowers, dir)
	}
	upper, work = filepath.Join(parent, "upper"), filepath.Join(parent, "work")
	for _, d := range []string{upper, work} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return lowers, upper, work
}

func overlayMount(lowers []string, upper, work string) Mount {
	return Mount{Type: "overlay", Source: "overlay", Options: []string{
		"index=off", "lowerdir=" + strings.Join(lowers, ":"), "upperdir=" + upper, "workdir=" + work,
	}}
}

func assertOverlayMerges(t *testing.T, target string, lowers []string, upper string) {
	t.Helper()
	if info := mountInfoAt(t, target); info.FSType != "overlay" {
		t.Fatalf("fstype at %s = %s, want overlay", target, info.FSType)
	}
	for i, l := range lowers {
		assertFile(t, filepath.Join(target, fmt.Sprintf("only-%d", i)), filepath.Base(filepath.Dir(l)))
	}
	assertFile(t, filepath.Join(target, "shared"), "0")
	writeFile(t, filepath.Join(target, "new"), "written")
	assertFile(t, filepath.Join(upper, "new"), "written")
}

func TestMountAllOverlayMergesLowersAndWritesToUpper(t *testing.T) {
	requireRoot(t)
	lowers, upper, work := overlayDirs(t, t.TempDir(), 2, 4)
	target := mountTarget(t)
	if err := MountAll(context.Background(), []Mount{overlayMount(lowers, upper, work)}, target); err != nil {
		t.Fatal(err)
	}
	assertOverlayMerges(t, target, lowers, upper)
}

// Options longer than a page only fit when the lowerdirs are relative to
// their common parent; the mount must work and leave our cwd alone.
func TestMountAllOverlayWithThirtyLongLowerdirsExceedingAPage(t *testing.T) {
	requireRoot(t)
	lowers, upper, work := overlayDirs(t, t.TempDir(), 30, 150)
	m := overlayMount(lowers, upper, work)
	if n := len(strings.Join(m.Options, ",")); n <= os.Getpagesize() {
		t.Fatalf("test setup: options are %d bytes, want more than a page", n)
	}
	cwd, _ := os.Getwd()
	target := mountTarget(t)
	if err := MountAll(context.Background(), []Mount{m}, target); err != nil {
		t.Fatal(err)
	}
	assertOverlayMerges(t, target, lowers, upper)
	if now, _ := os.Getwd(); now != cwd {
		t.Errorf("cwd changed from %s to %s", cwd, now)
	}
}

func TestMountAllRollsBackEarlierMountsWhenALaterOneFails(t *testing.T) {
	requireRoot(t)
	target := mountTarget(t)
	src := t.TempDir()
	if err := os.Mkdir(filepath.Join(src, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	mounts := []Mount{
		{Type: "bind", Source: src, Options: []string{"rbind"}},
		{Type: "tmpfs", Source: "tmpfs", Target: "sub"},
		{Type: "bind", Source: filepath.Join(src, "missing"), Target: "sub", Options: []string{"rbind", "ro"}},
	}
	err := MountAll(context.Background(), mounts, target)
	if !errdefs.IsNotFound(err) {
		t.Fatalf("MountAll = %v, want NotFound", err)
	}
	assertNoMountsUnder(t, target)
}

func TestMountAllRefusesTargetsOutsideTheRootfs(t *testing.T) {
	requireRoot(t)
	target := mountTarget(t)
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(target, "escape")); err != nil {
		t.Fatal(err)
	}
	err := MountAll(context.Background(), []Mount{{Type: "tmpfs", Source: "tmpfs", Target: "escape"}}, target)
	if !errdefs.IsInvalidArgument(err) {
		t.Fatalf("MountAll through symlink = %v, want InvalidArgument", err)
	}
	err = MountAll(context.Background(), []Mount{{Type: "tmpfs", Source: "tmpfs", Target: "../../missing-dir"}}, target)
	if !errdefs.IsNotFound(err) {
		t.Fatalf("MountAll with .. = %v, want NotFound inside the rootfs", err)
	}
	assertNoMountsUnder(t, target)
	assertNoMountsUnder(t, outside)
}

func TestMountAllStopsOnCancelledContextWithoutMounts(t *testing.T) {
	requireRoot(t)
	target := mountTarget(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := MountAll(ctx, []Mount{{Type: "tmpfs", Source: "tmpfs"}}, target)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("MountAll = %v, want context.Canceled", err)
	}
	assertNoMountsUnder(t, target)
}
