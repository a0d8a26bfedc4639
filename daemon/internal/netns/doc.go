// Package netns creates, enters and removes the network namespaces that
// runletd gives its pods.
//
// A namespace lives as long as something refers to it. A pod's namespace must
// outlive every process in it (the pause process can die and be restarted)
// and must be reachable by path for the CNI plugins, so New pins each one with
// a bind mount of its nsfs file onto a plain file, dir/<id>, as containerd's
// pkg/netns and CRI-O do. New also brings the loopback interface up, so a pod
// without any CNI network still has a working 127.0.0.1.
//
// Switching namespaces is per thread. New and Do run their work on a fresh
// goroutine locked to its OS thread, and hand the thread back to the Go
// scheduler only after switching it back to the namespace it came from; a
// thread that cannot be switched back stays locked and so dies with its
// goroutine instead of carrying the pod's namespace into unrelated code.
//
// Remove detaches the bind mount (MNT_DETACH, so it succeeds while processes
// or open descriptors still use the namespace; the kernel frees it when the
// last one goes) and deletes the file. It is idempotent.
package netns
