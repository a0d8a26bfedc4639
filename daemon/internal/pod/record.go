package pod

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/daemon/internal/shimmgr"
)

// bucket holds the sandbox records; namesBucket their name reservations.
const (
	bucket      = "sandboxes"
	namesBucket = "sandbox-names"
)

// State is a sandbox's place in its lifecycle.
type State string

const (
	// Creating: RunPodSandbox has begun; the record is written before any
	// side effect so that a crash leaves nothing the next start cannot
	// find and undo. Such a pod is never listed.
	Creating State = "creating"
	// Ready: the pause task runs.
	Ready State = "ready"
	// NotReady: stopped (or its shim died); resources released but the
	// record kept until Remove.
	NotReady State = "notready"
)

// Sandbox is the stored record of a pod.
type Sandbox struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`   // the reserved CRI name
	Config    []byte         `json:"config"` // the CRI PodSandboxConfig, protobuf
	Handler   string         `json:"handler"`
	State     State          `json:"state"`
	CreatedAt int64          `json:"created_at"` // unix nanoseconds
	Pid       uint32         `json:"pid"`
	NetNS     string         `json:"netns,omitempty"` // "" with host network
	IPs       []string       `json:"ips,omitempty"`
	Dir       string         `json:"dir"`    // the pod's files (sandboxfs)
	Bundle    string         `json:"bundle"` // the pause task's bundle
	Image     string         `json:"image"`
	Shim      shimmgr.Record `json:"shim"`
	// RunKey identifies the RunPodSandbox call that made the pod (name,
	// handler and config as asked, before any later resize): a retry of
	// that call gets this pod.
	RunKey string `json:"run_key,omitempty"`
	// Stopped is set once Stop released the task, shim and network; a pod
	// that is merely not ready (its pause or shim died) still needs it.
	Stopped bool `json:"stopped,omitempty"`
}

// CRIConfig decodes the stored CRI config.
func (sb *Sandbox) CRIConfig() (*runtimeapi.PodSandboxConfig, error) {
	var cfg runtimeapi.PodSandboxConfig
	if err := proto.Unmarshal(sb.Config, &cfg); err != nil {
		return nil, fmt.Errorf("sandbox %s: stored config: %w", sb.ID, err)
	}
	return &cfg, nil
}

// name is the CRI name a sandbox reserves: kubelet makes pods unique by
// name, namespace, uid and attempt.
func name(m *runtimeapi.PodSandboxMetadata) string {
	return fmt.Sprintf("%s_%s_%s_%d", m.GetName(), m.GetNamespace(), m.GetUid(), m.GetAttempt())
}
