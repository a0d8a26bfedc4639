// Package nri is runletd's side of the Node Resource Interface
// (github.com/containerd/nri): it runs the adaptation that plugins
// connect to, tells plugins about every pod and container event in
// order, synchronises a plugin that connects with the pods and
// containers that exist, applies a plugin's adjustments to a new
// container's OCI spec, and applies the updates and evictions plugins
// ask for through the container service.
//
// The pod and container services call it through their own small Hooks
// interfaces (it imports them, not they it); runletd wires the two.
package nri
