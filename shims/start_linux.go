package shims

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// start makes sure a server for the task's group is running and prints its
// address in the daemon's bootstrap generation.
func start(ctx context.Context, cfg Config, f *flags, stdin io.Reader, stdout io.Writer) error {
	raw, err := readInput(stdin)
	if err != nil {
		return err
	}
	in, err := decodeInput(raw, f)
	if err != nil {
		return err
	}
	group, err := groupID(f.bundle, f.id)
	if err != nil {
		return err
	}
	path, err := socketPath(socketDir(in.params.GetSocketDir()), f.address, f.namespace, group)
	if err != nil {
		return err
	}
	if err := ensureServer(f, in, path); err != nil {
		return err
	}
	address := "unix://" + path
	if err := writeBundleFile(f.bundle, "address", address); err != nil {
		return err
	}
	return in.reply(stdout, address)
}

// ensureServer forks the server unless a live one already holds path.
func ensureServer(f *flags, in *startInput, path string) error {
	ln, err := listen(path)
	if errors.Is(err, errAddressInUse) {
		return nil
	}
	if err != nil {
		return err
	}
	defer ln.Close()
	sock, err := ln.File()
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("socket file: %w", err)
	}
	defer sock.Close()
	cmd, err := serverCommand(f, in, path, sock)
	if err == nil {
		err = cmd.Start()
		closeStdin(cmd)
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("start shim server: %w", err)
	}
	if err := joinShimCgroup(in, cmd.Process.Pid); err != nil {
		cmd.Process.Kill()
		os.Remove(path)
		return err
	}
	return writeBundleFile(f.bundle, "shim.pid", fmt.Sprint(cmd.Process.Pid))
}

// serverCommand re-executes this binary without an action, detached in its
// own session, with the listening socket as fd 3 and the runtime options
// on stdin.
func serverCommand(f *flags, in *startInput, path string, sock *os.File) (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("own executable: %w", err)
	}
	args := []string{"-namespace", f.namespace, "-id", f.id, "-address", f.address,
		"-publish-binary", f.publishBinary, "-socket", path}
	if f.debug || in.params.GetLogLevel() < 0 {
		args = append(args, "-debug")
	}
	cmd := exec.Command(self, args...)
	cmd.Dir = f.bundle
	cmd.Env = append(os.Environ(), "TTRPC_ADDRESS="+in.ttrpcAddress, "GOMAXPROCS=2")
	cmd.ExtraFiles = []*os.File{sock}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	stdin, err := optionsPipe(in.rawOptions)
	if err != nil {
		return nil, err
	}
	cmd.Stdin = stdin
	return cmd, nil
}

// maxPipedOptions keeps the options within one pipe buffer, so writing
// them never waits for the server to read.
const maxPipedOptions = 60 << 10

// optionsPipe returns a pipe's read end holding b and then EOF. A pipe,
// not a reader: exec would copy a reader from a goroutine that this short
// lived process may not outlive.
func optionsPipe(b []byte) (*os.File, error) {
	if len(b) > maxPipedOptions {
		return nil, fmt.Errorf("runtime options of %d bytes exceed %d", len(b), maxPipedOptions)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("options pipe: %w", err)
	}
	defer w.Close()
	if _, err := w.Write(b); err != nil {
		r.Close()
		return nil, fmt.Errorf("options pipe: %w", err)
	}
	return r, nil
}

func closeStdin(cmd *exec.Cmd) {
	if f, ok := cmd.Stdin.(*os.File); ok {
		f.Close()
	}
}

func writeBundleFile(bundle, name, content string) error {
	p := filepath.Join(bundle, name)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
