package bundle

import "github.com/runlet/runlet/proto/types"

// Mount is one rootfs mount of a task, as containerd sends it in
// CreateTaskRequest.rootfs: a filesystem type, a source, mount(8)-style
// options and an optional Target relative to the rootfs (empty for the
// rootfs itself).
type Mount struct {
	Type    string
	Source  string
	Target  string
	Options []string
}

// FromProto converts the wire form of rootfs mounts. Nil entries are
// skipped.
func FromProto(mounts []*types.Mount) []Mount {
	out := make([]Mount, 0, len(mounts))
	for _, m := range mounts {
		if m == nil {
			continue
		}
		out = append(out, Mount{
			Type:    m.GetType(),
			Source:  m.GetSource(),
			Target:  m.GetTarget(),
			Options: append([]string(nil), m.GetOptions()...),
		})
	}
	return out
}
