// Command runlet-shim-crun is runlet's containerd shim v2 for crun.
package main

import (
	"github.com/runlet/runlet/bundle"
	"github.com/runlet/runlet/shims"
)

func main() {
	shims.Main(shims.Config{
		Name:          "runlet-shim-crun",
		RuntimeBinary: "crun",
		// crun refuses a hybrid cgroup host whose cgroup2 mount holds a
		// controller; mounting hugetlb on v1 fixes it (DESIGN.md §5).
		HostSetup: bundle.EnsureHugetlbV1,
	})
}
