package shim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	bootstrap "github.com/runlet/runlet/proto/bootstrap/v1"
)

// Bootstrap selects what `start` receives on stdin.
type Bootstrap int

const (
	// BootstrapOptions writes the runtime options Any (containerd up to
	// 2.2), which every shim understands.
	BootstrapOptions Bootstrap = iota
	// BootstrapParams writes protobuf BootstrapParams (containerd 2.3+).
	BootstrapParams
)

// maxReply bounds what a shim may print on stdout.
const maxReply = 64 << 10

// Config names a shim and the task it is started for.
type Config struct {
	// Binary is the shim binary: a path, or a name on PATH.
	Binary    string
	ID        string
	Namespace string
	// Bundle is the task's bundle directory; start and delete run in it.
	Bundle string
	// DaemonAddress is passed as -address (containerd's GRPC address).
	DaemonAddress string
	// EventsAddress is the socket of the Events service (TTRPC_ADDRESS).
	EventsAddress string
	// Options are the runtime options, e.g. containerd.runc.v1.Options.
	Options   *anypb.Any
	Bootstrap Bootstrap
	// MaxVersion is MAX_SHIM_VERSION, the newest task API the daemon
	// takes; 0 omits it, as containerd 1.6 does.
	MaxVersion int
	Debug      bool
	// Env is added to the shim's environment.
	Env []string
	// Log receives the shim's log lines; nil discards them.
	Log io.Writer
}

// startCommand runs `shim ... start` and returns its parsed reply.
func startCommand(ctx context.Context, cfg Config) (Reply, error) {
	stdin, err := startInput(cfg)
	if err != nil {
		return Reply{}, err
	}
	out, err := run(ctx, cfg, stdin, "start")
	if err != nil {
		return Reply{}, err
	}
	return ParseReply(out)
}

func startInput(cfg Config) ([]byte, error) {
	if cfg.Bootstrap == BootstrapParams {
		params := &bootstrap.BootstrapParams{
			InstanceId:             cfg.ID,
			Namespace:              cfg.Namespace,
			ContainerdTtrpcAddress: cfg.EventsAddress,
			ContainerdGrpcAddress:  cfg.DaemonAddress,
		}
		if cfg.Options != nil {
			params.Extensions = []*bootstrap.Extension{{Value: cfg.Options}}
		}
		return proto.Marshal(params)
	}
	if cfg.Options == nil {
		return nil, nil
	}
	return proto.Marshal(cfg.Options)
}

// run executes the shim binary with containerd's flags and environment in
// the bundle directory and returns its stdout.
func run(ctx context.Context, cfg Config, stdin []byte, action string, extra ...string) ([]byte, error) {
	args := []string{"-namespace", cfg.Namespace, "-address", cfg.DaemonAddress,
		"-publish-binary", publishBinary(), "-id", cfg.ID}
	if cfg.Debug {
		args = append(args, "-debug")
	}
	args = append(append(args, extra...), action)
	binary, err := resolveBinary(cfg.Binary)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = cfg.Bundle
	cmd.Env = append(append(os.Environ(),
		"TTRPC_ADDRESS="+cfg.EventsAddress,
		"GRPC_ADDRESS="+cfg.DaemonAddress,
		"NAMESPACE="+cfg.Namespace,
		"GOMAXPROCS=2",
	), cfg.Env...)
	if cfg.MaxVersion > 0 {
		cmd.Env = append(cmd.Env, "MAX_SHIM_VERSION="+strconv.Itoa(cfg.MaxVersion))
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &limitedWriter{w: &stdout, n: maxReply}, &limitedWriter{w: &stderr, n: maxReply}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("shim %s: %w: %w", cfg.Binary, err, errdefs.ErrNotFound)
		}
		return nil, fmt.Errorf("shim %s %s: %w: %s", cfg.Binary, action, err, msg)
	}
	return stdout.Bytes(), nil
}

// resolveBinary makes the shim's path absolute: the shim runs with the
// bundle as its working directory.
func resolveBinary(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err == nil {
		path, err = filepath.Abs(path)
	}
	if err != nil {
		return "", fmt.Errorf("shim %s: %w: %w", name, err, errdefs.ErrNotFound)
	}
	return path, nil
}

// publishBinary is what -publish-binary names: this daemon's executable.
func publishBinary() string {
	self, err := os.Executable()
	if err != nil {
		return "runletd"
	}
	return self
}

type limitedWriter struct {
	w *bytes.Buffer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if room := l.n - l.w.Len(); room < len(p) {
		l.w.Write(p[:max(room, 0)])
		return len(p), nil
	}
	return l.w.Write(p)
}
