// Package metrics turns what runletd knows of a pod and its containers
// (a shim's cgroup metrics, the processes' /proc entries, the writable
// layer's filesystem, the pod's network interfaces, the OCI spec) into the
// CRI's ListMetricDescriptors and ListPodSandboxMetrics answers.
//
// The metrics are those of cAdvisor's Prometheus exporter, which kubelet
// serves on /metrics/cadvisor and which its CRI stats provider relays
// unchanged: the same names, types and meaning. Every metric carries the
// base labels container, id, image, name, namespace and pod, then its own
// (cpu, device, interface, ...). A CRI value is a uint64, so seconds are
// whole seconds, as CRI-O reports them too.
package metrics
