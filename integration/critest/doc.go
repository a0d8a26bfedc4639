// Package critest runs the CRI validation suite of cri-tools (critest
// v1.37.0, .tools/critest) against a real runletd, once on the default
// RuntimeClass handler (runc) and once on crun, with every image the suite
// pulls built offline (critestimages) and served by a real registry on
// 127.0.0.1 behind runletd's mirrors for registry.k8s.io, k8s.gcr.io and
// gcr.io, and pods on a real CNI bridge with portmap.
//
// The tests pass when no spec fails, more specs pass than containerd 2.3.1
// passes (106), and every skip is either the one spec whose pinned image
// digest cannot be rebuilt offline or a spec skipping itself because this
// host lacks a feature (AppArmor, SELinux). critest's NRI specs run as
// plugins on the NRI socket of the runletd under test (in the test's own
// directory, never the host's /var/run/nri).
//
// RUNLET_CRITEST_FOCUS (a ginkgo focus regexp) runs a subset while
// iterating, without the count check; RUNLET_CRITEST_ARTIFACTS names a
// directory that receives the JUnit report and the critest and runletd logs.
//
// TestCritestBenchmark (RUNLET_CRITEST_BENCHMARK=1, run by make bench) runs
// `critest -benchmark` on both handlers against runletd and, when
// /usr/bin/containerd exists, against a private containerd 1.6 (its CRI
// plugin, the same registry and kind of CNI network, runc and crun
// runtimes), and prints the lifecycle results side by side.
package critest
