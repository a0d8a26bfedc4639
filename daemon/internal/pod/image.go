package pod

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/containerd/errdefs"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// imageConfig is the part of an OCI image config the pause process needs.
type imageConfig struct {
	Config struct {
		Entrypoint []string `json:"Entrypoint"`
		Cmd        []string `json:"Cmd"`
		Env        []string `json:"Env"`
	} `json:"config"`
}

// image finds the sandbox image and the pause process it runs.
func (r *run) image(ctx context.Context) error {
	img, err := r.s.o.Images.Get(r.sb.Image)
	if errdefs.IsNotFound(err) {
		return fmt.Errorf("sandbox image %s is not in the store (pull it first): %w", r.sb.Image, errdefs.ErrFailedPrecondition)
	}
	if err != nil {
		return err
	}
	blob, err := r.s.o.Images.ReadBlob(img.ID)
	if err != nil {
		return fmt.Errorf("sandbox image config: %w", err)
	}
	var cfg imageConfig
	if err := json.Unmarshal(blob, &cfg); err != nil {
		return fmt.Errorf("sandbox image config: %w", err)
	}
	r.args = append(append([]string(nil), cfg.Config.Entrypoint...), cfg.Config.Cmd...)
	r.env = cfg.Config.Env
	if len(r.args) == 0 {
		return fmt.Errorf("sandbox image %s has no command: %w", r.sb.Image, errdefs.ErrFailedPrecondition)
	}
	return nil
}

func join(dir, name string) string { return filepath.Join(dir, name) }

// shmPath is the pod's private /dev/shm, "" when it shares the host's IPC.
func shmPath(dir string, cfg *runtimeapi.PodSandboxConfig) string {
	if nsMode(cfg).GetIpc() == runtimeapi.NamespaceMode_NODE {
		return ""
	}
	return filepath.Join(dir, "shm")
}
