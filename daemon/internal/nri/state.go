package nri

// state is where plugins were last told a pod or container is; an id
// with no state was removed (or never told), and gets no more events.
type state int

const (
	created state = iota + 1
	running
	stopped
)

// needsStop reports whether plugins still have to hear that id stopped.
// The caller holds n.mu.
func (n *NRI) needsStop(id string) bool {
	s := n.state[id]
	return s == created || s == running
}

// needsRemove reports whether plugins still have to hear that id went.
// The caller holds n.mu.
func (n *NRI) needsRemove(id string) bool { return n.state[id] != 0 }
