package shims

import (
	"context"

	task "github.com/runlet/runlet/proto/task/v2"
	"github.com/runlet/runlet/shims/oci"
)

// newService builds the task service: the configured one, or the OCI
// runtime service.
func newService(ctx context.Context, cfg Config, env *Env) (task.TaskService, error) {
	if cfg.NewService != nil {
		return cfg.NewService(ctx, env)
	}
	return oci.New(ctx, oci.Config{
		Namespace:     env.Namespace,
		RuntimeBinary: env.RuntimeBinary,
		Options:       env.Options,
		Publisher:     env.Publisher,
		Shutdown:      env.Shutdown,
		HostSetup:     cfg.HostSetup,
	})
}
