package metrics

import (
	"os"
	"path/filepath"
	"strconv"
)

// ReadNetDev reads the interface counters of the network namespace pid
// lives in.
func ReadNetDev(pid uint32) ([]Interface, error) {
	f, err := os.Open(filepath.Join(procRoot, strconv.FormatUint(uint64(pid), 10), "net", "dev"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseNetDev(f)
}
