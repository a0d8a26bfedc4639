package shims

import (
	"context"

	"github.com/opencontainers/runtime-spec/specs-go/features"

	"github.com/runlet/runlet/proto/runc/options"
	task "github.com/runlet/runlet/proto/task/v2"
)

// Version is the shim's version, set at build time with -ldflags -X.
var Version = "dev"

// Config describes one shim binary.
type Config struct {
	// Name is the binary's name, reported by -v and -info.
	Name string
	// RuntimeBinary is the OCI runtime used when the runtime options name
	// none (containerd.runc.v1.Options.binary_name), e.g. "runc" or "crun".
	RuntimeBinary string
	// Features are the OCI features -info reports when the runtime has no
	// `features` command (crun before 1.9): what the shim author knows the
	// runtime supports. Nil reports none.
	Features *features.Features
	// HostSetup prepares the host before the first task is created, for
	// the default OCI service (e.g. bundle.EnsureHugetlbV1 for crun).
	HostSetup func(context.Context) error
	// NewService builds the task service of a serving shim. Nil selects
	// the OCI runtime service of package oci.
	NewService func(ctx context.Context, env *Env) (task.TaskService, error)
}

// Env is what a task service learns from the shim's bootstrap.
type Env struct {
	ID        string
	Namespace string
	// Bundle is the directory the shim was started in.
	Bundle string
	// Options are the runtime options given at start; nil when none.
	Options *options.Options
	// RuntimeBinary is the default OCI runtime (Config.RuntimeBinary).
	RuntimeBinary string
	// Publisher forwards events to the daemon.
	Publisher Publisher
	// Shutdown asks the shim to stop serving and exit. The service calls it
	// from its Shutdown RPC once no task remains.
	Shutdown func()
}
