// Package interop proves that containerd drives runlet's shims: a real
// containerd daemon (Debian's 1.6) runs on its own sockets and state
// directories, and ctr runs tasks with our shim binaries as the runtime.
package interop
