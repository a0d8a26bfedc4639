package sandboxfs

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

func requireRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting tmpfs needs root")
	}
}

func create(t *testing.T, o Options) *Files {
	t.Helper()
	f, err := Create(context.Background(), t.TempDir(), "pod1", o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Remove(context.Background()) })
	return f
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCreateWritesHostnameHostsAndDNSConfig(t *testing.T) {
	requireRoot(t)
	f := create(t, Options{Hostname: "web-0", DNS: &DNS{Servers: []string{"10.96.0.10"}, Searches: []string{"ns.svc.cluster.local", "svc.cluster.local"}, Options: []string{"ndots:5"}}})
	if got := read(t, f.HostnamePath); got != "web-0\n" {
		t.Fatalf("hostname %q", got)
	}
	if got := read(t, f.HostsPath); !strings.HasPrefix(got, "127.0.0.1\tlocalhost\n") {
		t.Fatalf("hosts %q", got)
	}
	want := "nameserver 10.96.0.10\nsearch ns.svc.cluster.local svc.cluster.local\noptions ndots:5\n"
	if got := read(t, f.ResolvPath); got != want {
		t.Fatalf("resolv.conf %q, want %q", got, want)
	}
	st, err := os.Stat(f.Dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("sandbox dir mode %v, %v", st.Mode(), err)
	}
}

func TestWithoutDNSConfigTheHostsResolvConfIsCopied(t *testing.T) {
	requireRoot(t)
	host := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(host, []byte("nameserver 127.0.0.53\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := create(t, Options{Hostname: "h", HostResolvConf: host})
	if got := read(t, f.ResolvPath); got != "nameserver 127.0.0.53\n" {
		t.Fatalf("resolv.conf %q", got)
	}
}

func TestPodShmIsA64MiBTmpfsUnlessHostIPC(t *testing.T) {
	requireRoot(t)
	f := create(t, Options{Hostname: "h"})
	var st unix.Statfs_t
	if err := unix.Statfs(f.ShmPath, &st); err != nil {
		t.Fatal(err)
	}
	if st.Type != unix.TMPFS_MAGIC || uint64(st.Blocks)*uint64(st.Bsize) != ShmSize {
		t.Fatalf("shm fs type %x size %d", st.Type, uint64(st.Blocks)*uint64(st.Bsize))
	}
	if g := create(t, Options{Hostname: "h", HostIPC: true}); g.ShmPath != "" {
		t.Fatalf("host IPC pod got a shm %q", g.ShmPath)
	}
}

func TestRemoveUnmountsAndDeletesEverythingTwice(t *testing.T) {
	requireRoot(t)
	f := create(t, Options{Hostname: "h"})
	for i := 0; i < 2; i++ {
		if err := f.Remove(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(f.Dir); !os.IsNotExist(err) {
		t.Fatalf("sandbox dir left: %v", err)
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), f.Dir) {
		t.Fatal("shm still mounted")
	}
}

func TestCreateRefusesBadInputAndExistingPods(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	if _, err := Create(context.Background(), dir, "../x", Options{}); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("bad id: %v", err)
	}
	if _, err := Create(context.Background(), dir, "p", Options{Hostname: "a b"}); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("bad hostname: %v", err)
	}
	f, err := Create(context.Background(), dir, "p", Options{Hostname: "h"})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove(context.Background())
	if _, err := Create(context.Background(), dir, "p", Options{Hostname: "h"}); !errdefs.IsAlreadyExists(err) {
		t.Fatalf("second create: %v", err)
	}
	if _, err := os.Stat(f.HostsPath); err != nil {
		t.Fatalf("a refused create removed the existing pod's files: %v", err)
	}
}
