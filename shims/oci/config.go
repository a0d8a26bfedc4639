package oci

import (
	"context"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"github.com/runlet/runlet/proto/runc/options"
)

// Publisher forwards a task event to the daemon under a topic such as
// "/tasks/exit". Events are delivered in the order they are published;
// Publish must not block on the daemon (the shim's publisher only queues).
type Publisher interface {
	Publish(ctx context.Context, topic string, event proto.Message) error
}

// Config configures a Service.
type Config struct {
	Namespace string
	// RuntimeBinary is used when the options name no binary.
	RuntimeBinary string
	// Options are the runtime options given at start; a Create may carry
	// its own.
	Options   *options.Options
	Publisher Publisher
	// Shutdown is called when the Shutdown RPC finds no task left.
	Shutdown func()
	// HostSetup, when set, prepares the host for the runtime before the
	// first Create (crun on a hybrid cgroup host: bundle.EnsureHugetlbV1).
	HostSetup func(context.Context) error
}

// RuntimeRootBase is where runtime state lives unless the options set a
// root: RuntimeRootBase/<binary>/<namespace>, as containerd does under
// /run/containerd/runc.
const RuntimeRootBase = "/run/runlet/runtime"

// runtimeSettings resolves the binary and state root for a task.
func runtimeSettings(defaultBinary, namespace string, opts *options.Options) (binary, root string) {
	binary = opts.GetBinaryName()
	if binary == "" {
		binary = defaultBinary
	}
	root = opts.GetRoot()
	if root == "" {
		root = filepath.Join(RuntimeRootBase, filepath.Base(binary))
	}
	return binary, filepath.Join(root, namespace)
}
