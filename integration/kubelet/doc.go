// Package kubelet runs a real Kubernetes node on runletd: etcd (Debian's
// etcd-server), kube-apiserver, kubelet and kubectl v1.37 (built by `make
// tools` into .tools), everything on loopback with certificates of the
// test's own, and checks through kubectl what a cluster user sees: the
// node Ready, pods under the handlers their RuntimeClasses name, logs,
// exec, port-forward, probes, init containers, volumes, an in-place
// resize, an unknown handler's refusal, and a node left as it was found
// once the pods are deleted.
package kubelet
