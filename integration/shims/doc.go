// Package shims tests what runlet's own shims do beyond the containerd
// shim protocol (the conformance suite covers the protocol for any shim):
// writing the kubelet's CRI log format themselves.
package shims
