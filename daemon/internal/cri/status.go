package cri

import (
	"context"
	goruntime "runtime"
	"strconv"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Status reports RuntimeReady and NetworkReady, every handler, and the
// runtime-wide features (SupplementalGroupsPolicy: specgen applies Strict
// and Merge, ContainerStatus reports the user).
func (s *Server) Status(ctx context.Context, req *runtime.StatusRequest) (*runtime.StatusResponse, error) {
	ready := &runtime.RuntimeCondition{Type: runtime.RuntimeReady, Status: true}
	st := s.runtime.Network.Status(ctx)
	net := &runtime.RuntimeCondition{Type: runtime.NetworkReady, Status: st.Ready, Reason: st.Reason, Message: st.Message}
	resp := &runtime.StatusResponse{Status: &runtime.RuntimeStatus{Conditions: []*runtime.RuntimeCondition{ready, net}},
		Features: &runtime.RuntimeFeatures{SupplementalGroupsPolicy: true}}
	resp.RuntimeHandlers = s.handlerFeatures(ctx)
	if req.GetVerbose() {
		// goroutines lets an operator (and the churn test) see a leak.
		resp.Info = map[string]string{"goroutines": strconv.Itoa(goruntime.NumGoroutine())}
		if cidr := s.podCIDR.Load(); cidr != nil {
			resp.Info["podCIDR"] = *cidr
		}
	}
	return resp, nil
}

// handlerFeatures lists every handler with its runtime's features, the
// default one also under the empty name, as kubelet looks it up. User
// namespaces also need the host's filesystems to take id-mapped mounts
// (runletd makes them, whatever the runtime).
func (s *Server) handlerFeatures(ctx context.Context) []*runtime.RuntimeHandler {
	set := s.runtime.Handlers
	idmapped := s.runtime.Containers.IDMappedMountsSupported(ctx)
	var out []*runtime.RuntimeHandler
	for _, name := range append([]string{""}, set.Names()...) {
		h, err := set.Resolve(name)
		if err != nil {
			continue
		}
		f := h.Features(ctx)
		out = append(out, &runtime.RuntimeHandler{Name: name, Features: &runtime.RuntimeHandlerFeatures{
			RecursiveReadOnlyMounts: f.RecursiveReadOnlyMounts, UserNamespaces: f.UserNamespaces && idmapped}})
	}
	return out
}
