package pod

import (
	"sort"
	"strings"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// List returns the pods that match f (nil matches all), newest first.
func (s *Service) List(f *runtimeapi.PodSandboxFilter) []*runtimeapi.PodSandbox {
	s.mu.Lock()
	all := make([]Sandbox, 0, len(s.pods))
	for _, sb := range s.pods {
		if sb.State != Creating {
			all = append(all, *sb)
		}
	}
	s.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].CreatedAt > all[j].CreatedAt })
	var out []*runtimeapi.PodSandbox
	for i := range all {
		p := listEntry(&all[i])
		if p != nil && matches(p, f) {
			out = append(out, p)
		}
	}
	return out
}

func listEntry(sb *Sandbox) *runtimeapi.PodSandbox {
	cfg, err := sb.CRIConfig()
	if err != nil {
		return nil
	}
	return &runtimeapi.PodSandbox{
		Id: sb.ID, Metadata: cfg.GetMetadata(), State: criState(sb.State), CreatedAt: sb.CreatedAt,
		Labels: cfg.GetLabels(), Annotations: cfg.GetAnnotations(), RuntimeHandler: sb.Handler,
	}
}

// matches applies a CRI filter: id (a prefix, as crictl passes it), state
// and every label of the selector.
func matches(p *runtimeapi.PodSandbox, f *runtimeapi.PodSandboxFilter) bool {
	if f == nil {
		return true
	}
	if f.GetId() != "" && !strings.HasPrefix(p.Id, f.GetId()) {
		return false
	}
	if f.GetState() != nil && f.GetState().GetState() != p.State {
		return false
	}
	for k, v := range f.GetLabelSelector() {
		if p.Labels[k] != v {
			return false
		}
	}
	return true
}
