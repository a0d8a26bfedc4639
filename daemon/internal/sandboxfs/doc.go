// Package sandboxfs prepares the per-pod files every container of a pod
// shares, as containerd's CRI does in RunPodSandbox: the pod's directory
// (0700), its /etc/hostname, /etc/hosts, /etc/resolv.conf (from the CRI
// DNSConfig, or the host's), and a private /dev/shm (a tmpfs of 64 MiB)
// unless the pod uses the host's IPC namespace. Remove undoes all of it.
package sandboxfs
