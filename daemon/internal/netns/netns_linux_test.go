package netns

import (
	"bufio"
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("creates network namespaces; skipped under -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

// newTestNS creates a namespace in a fresh 0700 state dir and removes it at
// cleanup, before the temp dir itself goes.
func newTestNS(t *testing.T, id string) (*NetNS, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "netns")
	n, err := New(context.Background(), dir, id)
	if err != nil {
		t.Fatalf("New(%q): %v", id, err)
	}
	t.Cleanup(func() {
		if err := n.Remove(context.Background()); err != nil {
			t.Errorf("cleanup Remove: %v", err)
		}
	})
	return n, dir
}

// isMounted reads /proc/self/mountinfo for a mount point at path.
func isMounted(t *testing.T, path string) bool {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) > 4 && fields[4] == path {
			return true
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return false
}

func TestNewPinsNamespaceAsNsfsBindMountInPrivateDir(t *testing.T) {
	requireRoot(t)
	n, dir := newTestNS(t, "pod-1")

	if want := filepath.Join(dir, "pod-1"); n.Path() != want {
		t.Fatalf("Path() = %q, want %q", n.Path(), want)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(n.Path(), &st); err != nil {
		t.Fatal(err)
	}
	if st.Type != unix.NSFS_MAGIC {
		t.Fatalf("statfs type = %#x, want NSFS_MAGIC %#x", st.Type, unix.NSFS_MAGIC)
	}
	if !isMounted(t, n.Path()) {
		t.Fatalf("%s not in /proc/self/mountinfo", n.Path())
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Fatalf("state dir mode = %o, want 700", perm)
	}
}

func TestNewNamespaceHasOnlyLoopbackAndItIsUp(t *testing.T) {
	requireRoot(t)
	n, _ := newTestNS(t, "lo-up")

	var names []string
	var loUp bool
	err := n.Do(func() error {
		links, err := netlink.LinkList()
		if err != nil {
			return err
		}
		for _, l := range links {
			names = append(names, l.Attrs().Name)
			if l.Attrs().Name == "lo" {
				loUp = l.Attrs().Flags&net.FlagUp != 0
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 || names[0] != "lo" {
		t.Fatalf("links in new namespace = %v, want only lo", names)
	}
	if !loUp {
		t.Fatal("lo is not up in the new namespace")
	}
}

func TestLoopbackTCPWorksInsideNamespace(t *testing.T) {
	requireRoot(t)
	n, _ := newTestNS(t, "lo-tcp")

	var got string
	err := n.Do(func() error {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer l.Close()
		go func() {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			_, _ = io.WriteString(c, "hello from the pod namespace")
		}()
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		b, err := io.ReadAll(c)
		got = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != "hello from the pod namespace" {
		t.Fatalf("read %q over loopback inside the namespace", got)
	}
}

func TestNewWithSameIDIsAlreadyExists(t *testing.T) {
	requireRoot(t)
	_, dir := newTestNS(t, "twice")

	_, err := New(context.Background(), dir, "twice")
	if !errdefs.IsAlreadyExists(err) {
		t.Fatalf("second New = %v, want AlreadyExists", err)
	}
	if err := checkNetNS(filepath.Join(dir, "twice")); err != nil {
		t.Fatalf("first namespace damaged by the second New: %v", err)
	}
}

func TestNewRejectsInvalidIDAndCreatesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "netns")
	for _, id := range []string{"", "..", "../escape", "a/b", ".hidden", "with space", strings.Repeat("x", 77)} {
		_, err := New(context.Background(), dir, id)
		if !errdefs.IsInvalidArgument(err) {
			t.Errorf("New(%q) = %v, want InvalidArgument", id, err)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("state dir exists after only invalid ids: %v", err)
	}
}

func TestRemoveLeavesNoMountNoFileAndIsIdempotent(t *testing.T) {
	requireRoot(t)
	n, _ := newTestNS(t, "remove-me")

	for i := range 2 {
		if err := n.Remove(context.Background()); err != nil {
			t.Fatalf("Remove #%d: %v", i+1, err)
		}
		if isMounted(t, n.Path()) {
			t.Fatalf("after Remove #%d %s is still mounted", i+1, n.Path())
		}
		if _, err := os.Lstat(n.Path()); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("after Remove #%d file still there: %v", i+1, err)
		}
	}
}

func TestRemoveSucceedsWhileNamespaceInUse(t *testing.T) {
	requireRoot(t)
	n, _ := newTestNS(t, "busy")

	held, err := os.Open(n.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	var l net.Listener
	if err := n.Do(func() (err error) {
		l, err = net.Listen("tcp", "127.0.0.1:0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	if err := n.Remove(context.Background()); err != nil {
		t.Fatalf("Remove of a namespace in use: %v", err)
	}
	if isMounted(t, n.Path()) {
		t.Fatal("namespace still mounted after Remove")
	}
	if _, err := os.Lstat(n.Path()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("file still there after Remove: %v", err)
	}
}

func TestLoadAcceptsPinnedNamespaceAndRejectsOthers(t *testing.T) {
	requireRoot(t)
	n, dir := newTestNS(t, "load-me")

	loaded, err := Load(n.Path())
	if err != nil {
		t.Fatalf("Load(pinned): %v", err)
	}
	if err := loaded.Do(func() error { _, err := netlink.LinkByName("lo"); return err }); err != nil {
		t.Fatalf("Do on loaded namespace: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing")); !errdefs.IsNotFound(err) {
		t.Errorf("Load(missing) = %v, want NotFound", err)
	}
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(plain); !errdefs.IsInvalidArgument(err) {
		t.Errorf("Load(plain file) = %v, want InvalidArgument", err)
	}
	if _, err := Load("/proc/self/ns/mnt"); !errdefs.IsInvalidArgument(err) {
		t.Errorf("Load(mount namespace) = %v, want InvalidArgument", err)
	}
}

func TestDoOnRemovedNamespaceIsNotFound(t *testing.T) {
	requireRoot(t)
	n, _ := newTestNS(t, "gone")
	if err := n.Remove(context.Background()); err != nil {
		t.Fatal(err)
	}
	ran := false
	err := n.Do(func() error { ran = true; return nil })
	if !errdefs.IsNotFound(err) || ran {
		t.Fatalf("Do after Remove = %v (ran %v), want NotFound without running", err, ran)
	}
}

// TestThreadsReturnToHostNamespace proves New and Do hand back no thread
// that is still inside a pod namespace: afterwards every thread a goroutine
// can land on is in the test's own namespace.
func TestThreadsReturnToHostNamespace(t *testing.T) {
	requireRoot(t)
	host, err := os.Readlink("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := newTestNS(t, "threads")
	for range 50 {
		if err := n.Do(func() error { return nil }); err != nil {
			t.Fatal(err)
		}
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]int{} // guarded by mu
	for range 200 {
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			ns, err := os.Readlink("/proc/thread-self/ns/net")
			if err != nil {
				ns = err.Error()
			}
			mu.Lock()
			seen[ns]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(seen) != 1 || seen[host] == 0 {
		t.Fatalf("threads' namespaces %v, want all %s", seen, host)
	}
}

func TestNewRejectsRelativeDirAndEndedContextCreatingNothing(t *testing.T) {
	if _, err := New(context.Background(), "netns", "pod"); !errdefs.IsInvalidArgument(err) {
		t.Errorf("New with a relative dir = %v, want InvalidArgument", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := filepath.Join(t.TempDir(), "netns")
	if _, err := New(ctx, dir, "pod"); !errdefs.IsCanceled(err) {
		t.Errorf("New with a cancelled context = %v, want Canceled", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("state dir made despite the cancelled context: %v", err)
	}
}

func TestRemoveByIDClearsNamespaceLeftoverFileAndNothing(t *testing.T) {
	requireRoot(t)
	n, dir := newTestNS(t, "by-id")
	leftover := filepath.Join(dir, "crashed")
	if err := os.WriteFile(leftover, nil, 0o444); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"by-id", "crashed", "never-made", "by-id"} {
		if err := Remove(context.Background(), dir, id); err != nil {
			t.Fatalf("Remove(%s): %v", id, err)
		}
	}
	for _, p := range []string{n.Path(), leftover} {
		if isMounted(t, p) {
			t.Errorf("%s still mounted", p)
		}
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s still there: %v", p, err)
		}
	}
	if err := Remove(context.Background(), dir, "../"+filepath.Base(dir)); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("Remove with a path-escaping id = %v, want InvalidArgument", err)
	}
}
