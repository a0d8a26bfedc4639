// Command runlet-shim-crun is runlet's containerd shim v2 for crun.
package main

import (
	"github.com/opencontainers/runtime-spec/specs-go/features"

	"github.com/runlet/runlet/bundle"
	"github.com/runlet/runlet/shims"
)

func main() {
	shims.Main(shims.Config{
		Name:          "runlet-shim-crun",
		RuntimeBinary: "crun",
		Features:      crunFeatures,
		// crun refuses a hybrid cgroup host whose cgroup2 mount holds a
		// controller; mounting hugetlb on v1 fixes it (ARCHITECTURE.md §5).
		HostSetup: bundle.EnsureHugetlbV1,
	})
}

// crunFeatures is what crun 1.8 (Debian 12's, which has no `features`
// command) supports and runletd asks about, proven on it by specgen's
// runtime tests: recursive read-only mounts and joining user namespaces.
// A partial list: only what is known.
var crunFeatures = &features.Features{
	MountOptions: []string{"bind", "rbind", "ro", "rw", "rro", "nosuid", "nodev", "noexec",
		"private", "rprivate", "shared", "rshared", "slave", "rslave"},
	Linux: &features.Linux{
		Namespaces: []string{"cgroup", "ipc", "mount", "network", "pid", "user", "uts"},
	},
}
