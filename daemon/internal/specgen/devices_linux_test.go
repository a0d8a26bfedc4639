package specgen

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestCRIDevicesAreAddedAndAllowed(t *testing.T) {
	link := filepath.Join(t.TempDir(), "null-link")
	os.Symlink("/dev/null", link)
	cfg := testContainer(nil)
	cfg.Devices = []*runtimeapi.Device{
		{HostPath: link, ContainerPath: "/dev/mynull", Permissions: "rw"},
		{HostPath: "/dev/zero", ContainerPath: "/dev/zero"},
	}
	s := mustContainerSpec(t, cfg, testPod(), testOptions())
	if len(s.Linux.Devices) != 2 {
		t.Fatalf("devices %+v", s.Linux.Devices)
	}
	d := s.Linux.Devices[0]
	if d.Path != "/dev/mynull" || d.Type != "c" || d.Major != 1 || d.Minor != 3 || d.FileMode == nil || *d.FileMode != 0o666 {
		t.Fatalf("device %+v, want /dev/null's numbers at /dev/mynull", d)
	}
	rules := s.Linux.Resources.Devices
	if len(rules) != 3 || rules[0].Allow || !rules[1].Allow || rules[1].Access != "rw" || *rules[1].Major != 1 || *rules[1].Minor != 3 || rules[2].Access != "rwm" || *rules[2].Minor != 5 {
		t.Fatalf("device cgroup %+v, want deny-all then the two devices", rules)
	}
}

func TestDeviceValidation(t *testing.T) {
	file := writeFile(t, t.TempDir(), "plain")
	for name, d := range map[string]*runtimeapi.Device{
		"missing":        {HostPath: "/dev/does-not-exist", ContainerPath: "/dev/x", Permissions: "r"},
		"not a device":   {HostPath: file, ContainerPath: "/dev/x"},
		"bad permission": {HostPath: "/dev/null", ContainerPath: "/dev/x", Permissions: "rx"},
		"relative":       {HostPath: "/dev/null", ContainerPath: "dev/x"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := testContainer(nil)
			cfg.Devices = []*runtimeapi.Device{d}
			_, err := ContainerSpec(cfg, testPod(), testOptions())
			wantInvalid(t, err, "devices[0]")
		})
	}
}

func TestCDIDevicesWithoutAnInjectorAreRefused(t *testing.T) {
	cfg := testContainer(nil)
	cfg.CDIDevices = []*runtimeapi.CDIDevice{{Name: "vendor.com/gpu=0"}}
	_, err := ContainerSpec(cfg, testPod(), testOptions())
	wantClass(t, err, errdefs.ErrNotImplemented, "CDI_devices")
}
