package metrics

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// Procs is a container's processes as /proc shows them.
type Procs struct {
	Processes, Threads, FDs, Sockets uint64
	NoFileSoft                       uint64 // the init process's soft RLIMIT_NOFILE; 0: unlimited or unknown
}

// parseThreads reads the Threads line of /proc/PID/status.
func parseThreads(r io.Reader) (uint64, bool) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Threads:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(rest), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// parseNoFile reads the soft "Max open files" of /proc/PID/limits; 0 when
// unlimited.
func parseNoFile(r io.Reader) uint64 {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "Max open files")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return 0
		}
		n, _ := strconv.ParseUint(f[0], 10, 64) // "unlimited" fails: 0
		return n
	}
	return 0
}
