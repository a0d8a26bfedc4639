package pod

import (
	"encoding/json"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Status reports a pod the way PodSandboxStatus does; verbose adds the
// "info" JSON (pid, netns, handler, image, bundle, shim address).
func (s *Service) Status(id string, verbose bool) (*runtimeapi.PodSandboxStatus, map[string]string, error) {
	sb, err := s.Get(id)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := sb.CRIConfig()
	if err != nil {
		return nil, nil, err
	}
	st := &runtimeapi.PodSandboxStatus{
		Id:             sb.ID,
		Metadata:       cfg.GetMetadata(),
		State:          criState(sb.State),
		CreatedAt:      sb.CreatedAt,
		Network:        network(&sb),
		Linux:          &runtimeapi.LinuxPodSandboxStatus{Namespaces: &runtimeapi.Namespace{Options: nsMode(cfg)}},
		Labels:         cfg.GetLabels(),
		Annotations:    cfg.GetAnnotations(),
		RuntimeHandler: sb.Handler,
	}
	if !verbose {
		return st, nil, nil
	}
	info, err := json.Marshal(map[string]any{
		"pid": sb.Pid, "netns": sb.NetNS, "runtimeHandler": sb.Handler, "image": sb.Image,
		"bundle": sb.Bundle, "shimAddress": sb.Shim.Address,
		"resources": cfg.GetLinux().GetResources(), "overhead": cfg.GetLinux().GetOverhead(),
	})
	if err != nil {
		return nil, nil, err
	}
	return st, map[string]string{"info": string(info)}, nil
}

func network(sb *Sandbox) *runtimeapi.PodSandboxNetworkStatus {
	if len(sb.IPs) == 0 {
		return &runtimeapi.PodSandboxNetworkStatus{}
	}
	n := &runtimeapi.PodSandboxNetworkStatus{Ip: sb.IPs[0]}
	for _, ip := range sb.IPs[1:] {
		n.AdditionalIps = append(n.AdditionalIps, &runtimeapi.PodIP{Ip: ip})
	}
	return n
}

func criState(st State) runtimeapi.PodSandboxState {
	if st == Ready {
		return runtimeapi.PodSandboxState_SANDBOX_READY
	}
	return runtimeapi.PodSandboxState_SANDBOX_NOTREADY
}
