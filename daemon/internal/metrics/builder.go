package metrics

import (
	"slices"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Labels are the values of BaseLabelKeys for one container (or a pod's
// sandbox, whose container is "POD" as in cAdvisor).
type Labels struct {
	Container string // the CRI container name; "POD" for the sandbox
	ID        string // the container's (or sandbox's) id
	Image     string // the image as asked
	Name      string // the name runletd reserved for it
	Namespace string // the pod's namespace
	Pod       string // the pod's name
}

func (l Labels) values() []string {
	return []string{l.Container, l.ID, l.Image, l.Name, l.Namespace, l.Pod}
}

// builder collects metrics that share base label values.
type builder struct {
	base []string
	out  []*runtimeapi.Metric
}

func newBuilder(l Labels) *builder { return &builder{base: l.values()} }

// add appends one sample of a described metric. A name that is not
// described, or extra label values that do not match its keys, are
// dropped: kubelet could not turn them into Prometheus samples.
func (b *builder) add(name string, v uint64, extra ...string) {
	d, ok := byName[name]
	if !ok || len(extra) != len(d.keys) {
		return
	}
	vals := append(slices.Clip(b.base), extra...)
	b.out = append(b.out, &runtimeapi.Metric{Name: name, MetricType: d.typ, LabelValues: vals,
		Value: &runtimeapi.UInt64Value{Value: v}})
}

// seconds turns nanoseconds into the whole seconds a CRI value can hold.
func seconds(ns uint64) uint64 { return ns / 1e9 }

// limit reports a cgroup limit as cAdvisor does: "no limit" (the v1
// page-counter maximum, or v2's "max") is 0.
func limit(v uint64) uint64 {
	if v >= 1<<62 {
		return 0
	}
	return v
}
