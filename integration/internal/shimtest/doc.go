// Package shimtest is a small harness that drives any containerd shim v2
// binary exactly as containerd does, for the conformance suite and for
// other integration tests.
//
// An Env, made per test, owns everything a test creates: a unique
// namespace-scoped runtime root, an events server that records every
// Envelope the shims forward, busybox bundles whose rootfs is handed to the
// shim as a bind mount, stdio FIFO sets, and the shim processes launched
// through the `start` subcommand in any bootstrap generation. At cleanup
// it shuts every shim down and then checks that nothing leaked: no shim
// process, no socket, no mount under a bundle, no cgroup, no runtime state,
// no FIFO held open by a shim. A leak is reported as a test error and then
// cleaned up, so one failing test never poisons the next.
package shimtest
