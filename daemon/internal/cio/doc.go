// Package cio connects a container's output to its CRI log file.
//
// With runlet's shims the shim writes the log itself (stdio named
// crilog:///path), so output keeps reaching the file while runletd is
// down. With any other shim runletd creates the stdio FIFOs and copies
// them into the log in the kubelet's format, as containerd's CRI does.
package cio
