// Package runtimeclass holds runletd's named runtimes: each Kubernetes
// RuntimeClass handler names a containerd shim v2 binary and the runtime
// options handed to it. It validates them at start (the shim exists and
// is executable, names are DNS labels, options decode), resolves a pod's
// RuntimeHandler ("" is the default runtime, an unknown one is refused
// naming the configured handlers) and asks a shim for its features.
package runtimeclass
