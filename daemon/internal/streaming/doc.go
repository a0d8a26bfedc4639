// Package streaming serves CRI Exec, Attach and PortForward sessions over
// HTTP (SPDY and WebSocket, as kubelet and crictl speak them) with the
// Kubernetes streaming library k8s.io/cri-streaming; this package only binds
// its sessions to runletd's containers and pod network namespaces.
package streaming
