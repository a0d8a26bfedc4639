package idmap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/runlet/runlet/daemon/internal/pause"
)

// Holder is a process that holds a new user namespace with a pod's id
// mappings (and a network namespace owned by it) until Close.
type Holder struct {
	cmd *exec.Cmd // immutable after Hold
}

// Hold starts a holder. The mappings must map container root; newNet adds
// a network namespace owned by the user namespace.
func Hold(ctx context.Context, uids, gids []specs.LinuxIDMapping, newNet bool) (*Holder, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(uids) == 0 || len(gids) == 0 {
		return nil, fmt.Errorf("idmap: a user namespace needs uid and gid mappings")
	}
	exe, err := pauseMemfd()
	if err != nil {
		return nil, err
	}
	defer exe.Close()
	flags := uintptr(unix.CLONE_NEWUSER)
	if newNet {
		flags |= unix.CLONE_NEWNET
	}
	// The memfd is close-on-exec: execve resolves /proc/self/fd/N before
	// closing it, so the holder runs it and keeps no descriptor.
	cmd := &exec.Cmd{
		Path: fmt.Sprintf("/proc/self/fd/%d", exe.Fd()),
		Args: []string{"runlet-userns-holder"},
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags:  flags,
			UidMappings: sysMappings(uids),
			GidMappings: sysMappings(gids),
			// Containers call setgroups: "deny" would be inherited.
			GidMappingsEnableSetgroups: true,
			Pdeathsig:                  syscall.SIGKILL,
		},
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("idmap: start the user namespace holder: %w", err)
	}
	return &Holder{cmd: cmd}, nil
}

// pauseMemfd is an executable memfd holding the built-in pause program.
func pauseMemfd() (*os.File, error) {
	fd, err := unix.MemfdCreate("runlet-pause", unix.MFD_CLOEXEC|unix.MFD_EXEC)
	if errors.Is(err, unix.EINVAL) { // kernels before 6.3 know no MFD_EXEC
		fd, err = unix.MemfdCreate("runlet-pause", unix.MFD_CLOEXEC)
	}
	if err != nil {
		return nil, fmt.Errorf("idmap: memfd for the holder: %w", err)
	}
	f := os.NewFile(uintptr(fd), "runlet-pause")
	if _, err := f.Write(pause.Binary); err != nil {
		f.Close()
		return nil, fmt.Errorf("idmap: write the holder program: %w", err)
	}
	return f, nil
}

func sysMappings(in []specs.LinuxIDMapping) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, 0, len(in))
	for _, m := range in {
		out = append(out, syscall.SysProcIDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)})
	}
	return out
}

// NSPath is the holder's namespace of kind ("user", "net"), valid until
// Close.
func (h *Holder) NSPath(kind string) string {
	return fmt.Sprintf("/proc/%d/ns/%s", h.cmd.Process.Pid, kind)
}

// Close kills the holder (by its pid) and reaps it. The namespaces live on
// while anything else uses them. Close is idempotent.
func (h *Holder) Close() error {
	if h == nil || h.cmd.ProcessState != nil {
		return nil
	}
	_ = h.cmd.Process.Kill()
	_ = h.cmd.Wait()
	return nil
}
