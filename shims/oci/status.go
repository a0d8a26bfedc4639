package oci

import (
	"fmt"

	"github.com/containerd/errdefs"

	tasktypes "github.com/runlet/runlet/proto/types/task"
)

// status is a process' place in its lifecycle.
type status int

const (
	created status = iota
	running
	paused
	stopped
	deleted
)

var statusNames = [...]string{"created", "running", "paused", "stopped", "deleted"}

func (s status) String() string { return statusNames[s] }

func (s status) proto() tasktypes.Status {
	switch s {
	case created:
		return tasktypes.Status_CREATED
	case running:
		return tasktypes.Status_RUNNING
	case paused:
		return tasktypes.Status_PAUSED
	case stopped:
		return tasktypes.Status_STOPPED
	}
	return tasktypes.Status_UNKNOWN
}

// transitions lists, per operation, the states it may start from.
var transitions = map[string][]status{
	"start":  {created},
	"pause":  {running},
	"resume": {paused},
	"exec":   {running},
	"delete": {created, stopped},
	"update": {created, running, paused},
}

// allow returns nil when op may run on a process in state s, else a
// FailedPrecondition error naming both.
func allow(op string, s status) error {
	for _, from := range transitions[op] {
		if s == from {
			return nil
		}
	}
	if s == deleted {
		return fmt.Errorf("process is deleted: %w", errdefs.ErrNotFound)
	}
	return fmt.Errorf("cannot %s a %s process: %w", op, s, errdefs.ErrFailedPrecondition)
}
