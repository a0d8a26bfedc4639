package bundle

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ClampOOMScoreAdj raises spec's process.oomScoreAdj to the caller's own
// /proc/self/oom_score_adj when the caller lacks CAP_SYS_RESOURCE: without
// it the kernel refuses a lower score, and runc then dies with "can't get
// final child's PID from pipe: EOF" instead of naming the cause. With the
// capability the spec is left as it is.
func ClampOOMScoreAdj(spec *specs.Spec) error {
	if spec == nil || spec.Process == nil || spec.Process.OOMScoreAdj == nil {
		return nil
	}
	privileged, err := hasCapSysResource()
	if err != nil {
		return err
	}
	if privileged {
		return nil
	}
	own, err := ownOOMScoreAdj()
	if err != nil {
		return err
	}
	clampOOMScoreAdj(spec.Process, own)
	return nil
}

func clampOOMScoreAdj(p *specs.Process, min int) {
	if *p.OOMScoreAdj < min {
		v := min
		p.OOMScoreAdj = &v
	}
}

func ownOOMScoreAdj() (int, error) {
	data, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return 0, fmt.Errorf("read own oom_score_adj: %w", err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0, fmt.Errorf("parse own oom_score_adj %q: %w", data, err)
	}
	return v, nil
}

func hasCapSysResource() (bool, error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false, fmt.Errorf("capget: %w", err)
	}
	const capSysResource = unix.CAP_SYS_RESOURCE
	return data[capSysResource/32].Effective&(1<<(capSysResource%32)) != 0, nil
}
