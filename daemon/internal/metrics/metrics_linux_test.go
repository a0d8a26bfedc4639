package metrics

import (
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

func TestReadProcsCountsThisProcessesThreadsFilesAndSockets(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fds[0])
	defer syscall.Close(fds[1])
	self := uint32(os.Getpid())
	p := ReadProcs(self, []uint32{self, 1 << 30}) // the second pid does not exist
	if p.Processes != 1 || p.Threads < 1 || p.FDs < 3 || p.Sockets < 2 {
		t.Fatalf("procs %+v: want 1 process, threads, >= 3 files and the 2 sockets", p)
	}
	if p.NoFileSoft == 0 {
		t.Fatalf("no open-files limit read: %+v", p)
	}
}

func TestReadFSMeasuresTheLayerAndItsFilesystem(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 64<<10)
	for i := range data {
		data[i] = 1
	}
	if err := os.WriteFile(filepath.Join(dir, "f"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(dir, "f"), filepath.Join(dir, "g")); err != nil {
		t.Fatal(err)
	}
	fs, err := ReadFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fs.Usage < 64<<10 || fs.Usage > 2*(64<<10) {
		t.Errorf("usage %d, want the file's 64 KiB once (hard links count once)", fs.Usage)
	}
	if fs.Limit < fs.Usage || fs.InodesTotal == 0 || fs.Device == "" {
		t.Errorf("filesystem %+v", fs)
	}
}

func TestReadNetDevOfThisProcess(t *testing.T) {
	ifaces, err := ReadNetDev(uint32(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	if len(ifaces) == 0 {
		t.Fatal("no interface, not even lo")
	}
}

func TestCgroupPidsListsThisProcessesCgroup(t *testing.T) {
	self := uint32(os.Getpid())
	pids, err := CgroupPids(self)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(pids, self) {
		t.Fatalf("the cgroup of pid %d lists %d pids, not it", self, len(pids))
	}
}
