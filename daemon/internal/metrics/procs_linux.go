package metrics

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// procRoot is where /proc is mounted.
const procRoot = "/proc"

// ReadProcs counts the threads, open files and sockets of pids (host pids,
// as a shim's Pids lists them) and reads init's open-files limit. A
// process that exits meanwhile is not counted.
func ReadProcs(init uint32, pids []uint32) *Procs {
	p := &Procs{}
	for _, pid := range pids {
		dir := filepath.Join(procRoot, strconv.FormatUint(uint64(pid), 10))
		threads, ok := readThreads(dir)
		if !ok {
			continue
		}
		p.Processes++
		p.Threads += threads
		fds, sockets := countFDs(dir)
		p.FDs += fds
		p.Sockets += sockets
	}
	if f, err := os.Open(filepath.Join(procRoot, strconv.FormatUint(uint64(init), 10), "limits")); err == nil {
		p.NoFileSoft = parseNoFile(f)
		f.Close()
	}
	return p
}

func readThreads(dir string) (uint64, bool) {
	f, err := os.Open(filepath.Join(dir, "status"))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	return parseThreads(f)
}

// countFDs counts a process's open files and, of them, sockets.
func countFDs(dir string) (fds, sockets uint64) {
	fdDir := filepath.Join(dir, "fd")
	entries, err := os.ReadDir(fdDir)
	if err != nil {
		return 0, 0
	}
	for _, e := range entries {
		fds++
		if target, err := os.Readlink(filepath.Join(fdDir, e.Name())); err == nil && strings.HasPrefix(target, "socket:") {
			sockets++
		}
	}
	return fds, sockets
}
