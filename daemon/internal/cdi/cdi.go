// Package cdi injects Container Device Interface devices into a
// container's OCI spec, as containerd's CRI plugin does: the devices a
// container names in its CRI config (CDIDevices) and in cdi.k8s.io/
// annotations, deduplicated, resolved in the CDI specs of the configured
// directories (tags.cncf.io/container-device-interface).
package cdi

import (
	"fmt"
	"sort"
	"strings"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"tags.cncf.io/container-device-interface/pkg/cdi"
	"tags.cncf.io/container-device-interface/pkg/parser"
)

// Injector resolves CDI devices in the specs of its directories.
type Injector struct {
	cache *cdi.Cache
	dirs  []string
}

// New returns an Injector over dirs (later ones win over earlier ones, as
// in the CDI library). The directories are read afresh at every
// injection, so specs written or removed meanwhile take effect at once;
// a directory that does not exist holds no specs.
func New(dirs []string) (*Injector, error) {
	c, err := cdi.NewCache(cdi.WithSpecDirs(dirs...), cdi.WithAutoRefresh(false))
	if err != nil {
		return nil, fmt.Errorf("CDI spec dirs %v: %w", dirs, err)
	}
	return &Injector{cache: c, dirs: dirs}, nil
}

// Devices are the CDI devices a container asks for: CDIDevices first, then
// those of its cdi.k8s.io/ annotations (by key), each once. A name that is
// not a qualified CDI name (vendor.com/class=name) is
// errdefs.ErrInvalidArgument.
func Devices(cfg *runtimeapi.ContainerConfig) ([]string, error) {
	var devs []string
	seen := map[string]bool{}
	add := func(field, name string) error {
		if _, _, _, err := parser.ParseQualifiedName(name); err != nil {
			return fmt.Errorf("%s: %v (want vendor.com/class=name): %w", field, err, errdefs.ErrInvalidArgument)
		}
		if !seen[name] {
			seen[name] = true
			devs = append(devs, name)
		}
		return nil
	}
	for _, d := range cfg.GetCDIDevices() {
		if err := add("CDI_devices", d.GetName()); err != nil {
			return nil, err
		}
	}
	keys := make([]string, 0, len(cfg.GetAnnotations()))
	for k := range cfg.GetAnnotations() {
		if strings.HasPrefix(k, cdi.AnnotationPrefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, name := range strings.Split(cfg.GetAnnotations()[k], ",") {
			if err := add("annotations["+k+"]", name); err != nil {
				return nil, err
			}
		}
	}
	return devs, nil
}

// Inject injects the devices cfg asks for (Devices) into spec.
func (in *Injector) Inject(spec *specs.Spec, cfg *runtimeapi.ContainerConfig) error {
	devs, err := Devices(cfg)
	if err != nil {
		return err
	}
	return in.InjectDevices(spec, devs)
}

// InjectDevices adds the devices' edits (device nodes and their cgroup rules,
// env, mounts, hooks) to spec. A device no spec defines is
// errdefs.ErrInvalidArgument naming it, with the problems found in the
// spec directories, if any, and spec is left unchanged.
func (in *Injector) InjectDevices(spec *specs.Spec, devices []string) error {
	if len(devices) == 0 {
		return nil
	}
	refreshErr := in.cache.Refresh() // a broken spec file must not hide the others
	unresolved, err := in.cache.InjectDevices(spec, devices...)
	switch {
	case len(unresolved) > 0:
		msg := fmt.Sprintf("unknown CDI device %s (no spec in %s defines it)", strings.Join(unresolved, ", "), strings.Join(in.dirs, ", "))
		if refreshErr != nil {
			msg += "; spec errors: " + strings.ReplaceAll(refreshErr.Error(), "\n", "; ")
		}
		return fmt.Errorf("%s: %w", msg, errdefs.ErrInvalidArgument)
	case err != nil:
		return fmt.Errorf("inject CDI devices %s: %v: %w", strings.Join(devices, ", "), err, errdefs.ErrFailedPrecondition)
	}
	return nil
}
