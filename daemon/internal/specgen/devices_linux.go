package specgen

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

var errNotADevice = errors.New("not a device node")

// skippedDevDirs are /dev directories privileged containers do not copy,
// as containerd's host devices (they are mounts of their own, or LXD and
// udev state).
var skippedDevDirs = []string{"pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"}

// criDevices adds each CRI device (a device node, or every device under a
// directory) to the spec's devices and allows it in the device cgroup with
// its permissions ("rwm" when empty).
func criDevices(devices []*runtimeapi.Device) ([]specs.LinuxDevice, []specs.LinuxDeviceCgroup, error) {
	var devs []specs.LinuxDevice
	var rules []specs.LinuxDeviceCgroup
	for i, d := range devices {
		field := fmt.Sprintf("devices[%d]", i)
		perms, err := devicePermissions(field, d.GetPermissions())
		if err != nil {
			return nil, nil, err
		}
		if !path.IsAbs(d.GetContainerPath()) {
			return nil, nil, invalidf(field+".container_path", "%q is not an absolute path", d.GetContainerPath())
		}
		found, err := devicesAt(field, d.GetHostPath(), d.GetContainerPath())
		if err != nil {
			return nil, nil, err
		}
		for _, dev := range found {
			devs = append(devs, dev)
			rules = append(rules, allowDevice(dev, perms))
		}
	}
	return devs, rules, nil
}

func devicePermissions(field, p string) (string, error) {
	if p == "" {
		return "rwm", nil
	}
	if strings.Trim(p, "rwm") != "" {
		return "", invalidf(field+".permissions", "%q has letters other than r, w, m", p)
	}
	return p, nil
}

func allowDevice(d specs.LinuxDevice, access string) specs.LinuxDeviceCgroup {
	major, minor := d.Major, d.Minor
	return specs.LinuxDeviceCgroup{Allow: true, Type: d.Type, Major: &major, Minor: &minor, Access: access}
}

// devicesAt resolves hostPath (following symlinks) and returns its device,
// or the devices under it when it is a directory, at containerPath.
func devicesAt(field, hostPath, containerPath string) ([]specs.LinuxDevice, error) {
	resolved, err := filepath.EvalSymlinks(hostPath)
	if os.IsNotExist(err) {
		return nil, invalidf(field+".host_path", "%q does not exist", hostPath)
	}
	if err != nil {
		return nil, fmt.Errorf("%s.host_path: %w", field, err)
	}
	fi, err := os.Stat(resolved)
	if err != nil {
		return nil, fmt.Errorf("%s.host_path: %w", field, err)
	}
	if fi.IsDir() {
		return devicesUnder(resolved, containerPath, nil)
	}
	dev, err := deviceFromPath(resolved, containerPath)
	if errors.Is(err, errNotADevice) {
		return nil, invalidf(field+".host_path", "%q is not a device node", hostPath)
	}
	if err != nil {
		return nil, err
	}
	return []specs.LinuxDevice{dev}, nil
}

// hostDevices are all devices under the host's /dev, for privileged
// containers.
func hostDevices() ([]specs.LinuxDevice, error) {
	return devicesUnder("/dev", "/dev", skippedDevDirs)
}

func devicesUnder(dir, containerDir string, skipDirs []string) ([]specs.LinuxDevice, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []specs.LinuxDevice
	for _, e := range entries {
		host, ctr := filepath.Join(dir, e.Name()), path.Join(containerDir, e.Name())
		if e.IsDir() {
			if slices.Contains(skipDirs, e.Name()) {
				continue
			}
			sub, err := devicesUnder(host, ctr, nil)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
			continue
		}
		if e.Name() == "console" {
			continue
		}
		dev, err := deviceFromPath(host, ctr)
		if errors.Is(err, errNotADevice) || os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, dev)
	}
	return out, nil
}

// deviceFromPath describes the block or character device at hostPath.
func deviceFromPath(hostPath, containerPath string) (specs.LinuxDevice, error) {
	var st unix.Stat_t
	if err := unix.Lstat(hostPath, &st); err != nil {
		return specs.LinuxDevice{}, &os.PathError{Op: "lstat", Path: hostPath, Err: err}
	}
	var kind string
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFBLK:
		kind = "b"
	case unix.S_IFCHR:
		kind = "c"
	default:
		return specs.LinuxDevice{}, errNotADevice
	}
	mode := os.FileMode(st.Mode & 0o777)
	uid, gid := st.Uid, st.Gid
	return specs.LinuxDevice{
		Path: containerPath, Type: kind,
		Major: int64(unix.Major(uint64(st.Rdev))), Minor: int64(unix.Minor(uint64(st.Rdev))),
		FileMode: &mode, UID: &uid, GID: &gid,
	}, nil
}
