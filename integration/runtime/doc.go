// Package runtime tests runletd's RuntimeService end to end: a real
// runletd, the real crictl, real shims (runlet's and containerd's), runc
// and crun, and a pod network made by real CNI plugins.
package runtime
