package nri

import (
	"fmt"

	"github.com/containerd/errdefs"
	"github.com/containerd/nri/pkg/api"
	nrigen "github.com/containerd/nri/pkg/runtime-tools/generate"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// adjust applies plugins' adjustments to a new container's spec with
// NRI's own generator helpers (as containerd does). An adjustment that
// cannot be applied is InvalidArgument: the plugins asked for it.
func adjust(spec *specs.Spec, a *api.ContainerAdjustment) error {
	if a == nil {
		return nil
	}
	if cdi := a.GetCDIDevices(); len(cdi) > 0 {
		// Not dropped silently: the container would lack the device.
		return fmt.Errorf("NRI plugins ask for CDI device %q, and runletd injects no CDI device yet: %w",
			cdi[0].GetName(), errdefs.ErrNotImplemented)
	}
	if err := nrigen.SpecGenerator(&specEditor{spec: spec}).Adjust(a); err != nil {
		return fmt.Errorf("apply NRI plugins' adjustment: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	return nil
}
