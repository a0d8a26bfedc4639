package container

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

const (
	bucket      = "containers"
	namesBucket = "container-names"
)

// State is a container's place in its lifecycle.
type State string

const (
	// Creating: CreateContainer has begun; the record is written before
	// any side effect so that a crash leaves nothing the next start cannot
	// find and undo. Such a container is never listed.
	Creating State = "creating"
	Created  State = "created"
	Running  State = "running"
	Exited   State = "exited"
)

// transitions lists the states each state may move to.
var transitions = map[State][]State{
	Creating: {Created},
	Created:  {Running, Exited},
	Running:  {Exited},
	Exited:   {},
}

// Container is the stored record of a container.
type Container struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"` // the reserved CRI name
	SandboxID  string    `json:"sandbox_id"`
	Config     []byte    `json:"config"` // the CRI ContainerConfig, protobuf
	Image      string    `json:"image"`  // as asked
	ImageID    string    `json:"image_id"`
	ImageRef   string    `json:"image_ref"` // repo digest, else id
	StopSignal string    `json:"stop_signal,omitempty"`
	State      State     `json:"state"`
	CreatedAt  int64     `json:"created_at"`
	StartedAt  int64     `json:"started_at,omitempty"`
	FinishedAt int64     `json:"finished_at,omitempty"`
	ExitCode   int32     `json:"exit_code"`
	Reason     string    `json:"reason,omitempty"`
	Message    string    `json:"message,omitempty"`
	OOMKilled  bool      `json:"oom_killed,omitempty"` // the shim reported an OOM kill
	Pid        uint32    `json:"pid,omitempty"`
	LogPath    string    `json:"log_path,omitempty"`
	Bundle     string    `json:"bundle"`
	FIFODir    string    `json:"fifo_dir"`
	Stdio      [3]string `json:"stdio"` // stdin, stdout, stderr as given to the shim
	Terminal   bool      `json:"terminal,omitempty"`
	// ImageVolumes are the CRI image mounts prepared for it, released
	// at removal.
	ImageVolumes []ImageVolume `json:"image_volumes,omitempty"`
}

func (c *Container) config() (*runtimeapi.ContainerConfig, error) {
	var cfg runtimeapi.ContainerConfig
	if err := proto.Unmarshal(c.Config, &cfg); err != nil {
		return nil, fmt.Errorf("container %s: stored config: %w", c.ID, err)
	}
	return &cfg, nil
}

// moveTo changes the state if the machine allows it.
func (c *Container) moveTo(st State) bool {
	for _, to := range transitions[c.State] {
		if to == st {
			c.State = st
			return true
		}
	}
	return false
}

// name is the CRI name a container reserves within its pod.
func name(m *runtimeapi.ContainerMetadata, sb *runtimeapi.PodSandboxMetadata) string {
	return fmt.Sprintf("%s_%s_%s_%s_%d", m.GetName(), sb.GetName(), sb.GetNamespace(), sb.GetUid(), m.GetAttempt())
}
