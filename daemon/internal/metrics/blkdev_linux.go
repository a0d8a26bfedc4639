package metrics

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// NameDevices names the block devices the cgroup's I/O went to (v2
// reports numbers only) as /dev/NAME, from sysfs.
func NameDevices(cg *Cgroup) {
	if cg == nil {
		return
	}
	for i := range cg.Blkio {
		d := &cg.Blkio[i]
		if d.Device == "" {
			d.Device = blockDevName(d.Major, d.Minor)
		}
	}
}

func blockDevName(major, minor uint64) string {
	f, err := os.Open(fmt.Sprintf("/sys/dev/block/%d:%d/uevent", major, minor))
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if name, ok := strings.CutPrefix(sc.Text(), "DEVNAME="); ok {
			return "/dev/" + name
		}
	}
	return ""
}
