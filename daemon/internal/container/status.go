package container

import (
	"encoding/json"
	"sort"
	"strings"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

var criStates = map[State]runtimeapi.ContainerState{
	Created: runtimeapi.ContainerState_CONTAINER_CREATED,
	Running: runtimeapi.ContainerState_CONTAINER_RUNNING,
	Exited:  runtimeapi.ContainerState_CONTAINER_EXITED,
}

// Status reports a container as ContainerStatus does; verbose adds the
// "info" JSON (pid, sandbox, bundle, runtime spec's location).
func (s *Service) Status(id string, verbose bool) (*runtimeapi.ContainerStatus, map[string]string, error) {
	c, err := s.get(id)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := c.config()
	if err != nil {
		return nil, nil, err
	}
	image, imageRef := s.imageOf(&c, cfg.GetImage())
	st := &runtimeapi.ContainerStatus{
		Id: c.ID, Metadata: cfg.GetMetadata(), State: criStates[c.State],
		CreatedAt: c.CreatedAt, StartedAt: c.StartedAt, FinishedAt: c.FinishedAt, ExitCode: c.ExitCode,
		Image: image, ImageRef: imageRef, ImageId: c.ImageID,
		Reason: c.Reason, Message: c.Message, Labels: cfg.GetLabels(), Annotations: cfg.GetAnnotations(),
		Mounts: c.withImageRefs(cfg.GetMounts()), LogPath: c.LogPath,
	}
	if !verbose {
		return st, nil, nil
	}
	info, err := json.Marshal(map[string]any{"pid": c.Pid, "sandboxID": c.SandboxID, "bundle": c.Bundle})
	if err != nil {
		return nil, nil, err
	}
	return st, map[string]string{"info": string(info)}, nil
}

// imageOf is a container's image as ContainerStatus reports it, like
// containerd: the image's first tag as the name (else the name it was
// created with) and its first repo digest as image_ref (else its id),
// read from the store now, so a later tag or pull by digest shows.
func (s *Service) imageOf(c *Container, asked *runtimeapi.ImageSpec) (*runtimeapi.ImageSpec, string) {
	spec := &runtimeapi.ImageSpec{Image: c.Image, Annotations: asked.GetAnnotations(),
		UserSpecifiedImage: asked.GetUserSpecifiedImage(), RuntimeHandler: asked.GetRuntimeHandler()}
	ref := c.ImageRef
	if s.o.Images == nil || c.ImageID == "" {
		return spec, ref
	}
	if img, err := s.o.Images.Get(c.ImageID); err == nil {
		if len(img.RepoTags) > 0 {
			spec.Image = img.RepoTags[0]
		}
		if len(img.RepoDigests) > 0 {
			ref = img.RepoDigests[0]
		}
	}
	return spec, ref
}

// List returns the containers matching f (nil matches all), newest first.
func (s *Service) List(f *runtimeapi.ContainerFilter) []*runtimeapi.Container {
	s.mu.Lock()
	all := make([]Container, 0, len(s.ctrs))
	for _, c := range s.ctrs {
		if c.State == Creating {
			continue
		}
		all = append(all, *c)
	}
	s.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].CreatedAt > all[j].CreatedAt })
	var out []*runtimeapi.Container
	for i := range all {
		c := &all[i]
		cfg, err := c.config()
		if err != nil {
			continue
		}
		// image_ref is the image's id here, as containerd reports it:
		// kubelet's image GC matches it against ListImages' ids.
		e := &runtimeapi.Container{Id: c.ID, PodSandboxId: c.SandboxID, Metadata: cfg.GetMetadata(),
			Image: &runtimeapi.ImageSpec{Image: c.Image}, ImageRef: c.ImageID, ImageId: c.ImageID,
			State: criStates[c.State], CreatedAt: c.CreatedAt, Labels: cfg.GetLabels(), Annotations: cfg.GetAnnotations()}
		if matches(e, f) {
			out = append(out, e)
		}
	}
	return out
}

func matches(c *runtimeapi.Container, f *runtimeapi.ContainerFilter) bool {
	if f == nil {
		return true
	}
	switch {
	case f.GetId() != "" && !strings.HasPrefix(c.Id, f.GetId()):
		return false
	case f.GetPodSandboxId() != "" && !strings.HasPrefix(c.PodSandboxId, f.GetPodSandboxId()):
		return false
	case f.GetState() != nil && f.GetState().GetState() != c.State:
		return false
	}
	for k, v := range f.GetLabelSelector() {
		if c.Labels[k] != v {
			return false
		}
	}
	return true
}
