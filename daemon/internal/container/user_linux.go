package container

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/bundle"
)

// overflowID is what the kernel shows for an id its user namespace does
// not map (/proc/sys/kernel/overflowuid).
const overflowID = 65534

// User is the identity of a container's init process, as
// ContainerStatus.user reports it (KEP 3619): read from
// /proc/<pid>/status while it runs, host ids mapped back to the
// container's through its user namespace mappings; otherwise the user its
// spec gave the runtime. nil when neither can be read.
func (s *Service) User(id string) *runtimeapi.ContainerUser {
	c, err := s.get(id)
	if err != nil || c.Bundle == "" {
		return nil
	}
	spec, err := bundle.ReadSpec(c.Bundle)
	if err != nil || spec.Process == nil {
		return nil
	}
	u := spec.Process.User
	if c.State == Running && c.Pid != 0 {
		if live, err := procUser(c.Pid); err == nil {
			u = live
			if spec.Linux != nil && spec.Linux.UIDMappings != nil {
				u = toContainer(u, spec.Linux.UIDMappings, spec.Linux.GIDMappings)
			}
		}
	}
	groups := make([]int64, 0, len(u.AdditionalGids))
	for _, g := range u.AdditionalGids {
		groups = append(groups, int64(g))
	}
	return &runtimeapi.ContainerUser{Linux: &runtimeapi.LinuxContainerUser{Uid: int64(u.UID), Gid: int64(u.GID), SupplementalGroups: groups}}
}

// procUser reads the real uid and gid and the groups of a process.
func procUser(pid uint32) (specs.User, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return specs.User{}, err
	}
	defer f.Close()
	var u specs.User
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, value, _ := strings.Cut(sc.Text(), ":")
		fields := strings.Fields(value)
		switch {
		case key == "Uid" && len(fields) > 0:
			u.UID, err = parseID(fields[0])
		case key == "Gid" && len(fields) > 0:
			u.GID, err = parseID(fields[0])
		case key == "Groups":
			u.AdditionalGids, err = parseIDs(fields)
		}
		if err != nil {
			return specs.User{}, fmt.Errorf("/proc/%d/status: %w", pid, err)
		}
	}
	return u, sc.Err()
}

func parseIDs(fields []string) ([]uint32, error) {
	ids := make([]uint32, 0, len(fields))
	for _, f := range fields {
		id, err := parseID(f)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func parseID(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err
}

// toContainer maps a user's host ids into its user namespace.
func toContainer(u specs.User, uids, gids []specs.LinuxIDMapping) specs.User {
	out := specs.User{UID: inside(u.UID, uids), GID: inside(u.GID, gids)}
	for _, g := range u.AdditionalGids {
		out.AdditionalGids = append(out.AdditionalGids, inside(g, gids))
	}
	slices.Sort(out.AdditionalGids)
	return out
}

func inside(id uint32, mappings []specs.LinuxIDMapping) uint32 {
	for _, m := range mappings {
		if id >= m.HostID && uint64(id) < uint64(m.HostID)+uint64(m.Size) {
			return m.ContainerID + (id - m.HostID)
		}
	}
	return overflowID
}
