package nri

import (
	"errors"
	"fmt"

	"github.com/containerd/errdefs"
	"github.com/containerd/nri/pkg/api"
	nrigen "github.com/containerd/nri/pkg/runtime-tools/generate"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// DeviceInjector injects CDI devices into a spec (runletd's
// cdi.Injector): an unknown device is InvalidArgument.
type DeviceInjector interface {
	InjectDevices(spec *specs.Spec, devices []string) error
}

// adjust applies plugins' adjustments to a new container's spec with
// NRI's own generator helpers (as containerd does), the CDI devices they
// ask for through devices. An adjustment that cannot be applied is
// InvalidArgument (the plugins asked for it) unless it says otherwise.
func adjust(spec *specs.Spec, a *api.ContainerAdjustment, devices DeviceInjector) error {
	if a == nil {
		return nil
	}
	var opts []nrigen.GeneratorOption
	if cdi := a.GetCDIDevices(); len(cdi) > 0 {
		if devices == nil {
			// Not dropped silently: the container would lack the device.
			return fmt.Errorf("NRI plugins ask for CDI device %q, and CDI is off (cdi_spec_dirs = []): %w",
				cdi[0].GetName(), errdefs.ErrNotImplemented)
		}
		opts = append(opts, nrigen.WithCDIDeviceInjector(devices.InjectDevices))
	}
	if err := nrigen.SpecGenerator(&specEditor{spec: spec}, opts...).Adjust(a); err != nil {
		if classified(err) {
			return fmt.Errorf("apply NRI plugins' adjustment: %w", err)
		}
		return fmt.Errorf("apply NRI plugins' adjustment: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	return nil
}

// classified reports whether err carries an errdefs class of its own.
func classified(err error) bool {
	for _, class := range []error{errdefs.ErrInvalidArgument, errdefs.ErrFailedPrecondition, errdefs.ErrNotFound, errdefs.ErrNotImplemented} {
		if errors.Is(err, class) {
			return true
		}
	}
	return false
}
