package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/daemon/internal/cnitemplate"
)

// UpdateRuntimeConfig keeps the node's pod CIDR kubelet sends (Status
// reports it in its verbose info) and, as containerd does, renders the CNI
// config from network.conf_template when one is configured and no usable
// CNI config exists yet; without a template it only logs, leaving the
// config to whatever installs the network. An empty pod CIDR is ignored.
func (s *Server) UpdateRuntimeConfig(ctx context.Context, req *runtime.UpdateRuntimeConfigRequest) (*runtime.UpdateRuntimeConfigResponse, error) {
	podCIDR := req.GetRuntimeConfig().GetNetworkConfig().GetPodCidr()
	if podCIDR == "" {
		return &runtime.UpdateRuntimeConfigResponse{}, nil
	}
	cidrs, err := cnitemplate.ParseCIDRs(podCIDR)
	if err != nil {
		return nil, err
	}
	s.podCIDR.Store(&podCIDR)
	tmpl := s.runtime.CNIConfTemplate
	if tmpl == "" {
		s.log.InfoContext(ctx, "pod CIDR received; no network.conf_template, so the CNI config is left to the network's installer", "pod_cidr", podCIDR)
		return &runtime.UpdateRuntimeConfigResponse{}, nil
	}
	if net := s.runtime.Network; net != nil {
		if st := net.Status(ctx); st.Ready && st.ConfigFile != "" {
			s.log.InfoContext(ctx, "pod CIDR received; a CNI config is in use, not rendering the template", "pod_cidr", podCIDR, "config", st.ConfigFile)
			return &runtime.UpdateRuntimeConfigResponse{}, nil
		}
	}
	file, err := cnitemplate.Render(tmpl, s.runtime.CNIConfDir, cnitemplate.NewData(cidrs))
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "rendered the CNI config from the template", "pod_cidr", podCIDR, "template", tmpl, "config", file)
	return &runtime.UpdateRuntimeConfigResponse{}, nil
}
