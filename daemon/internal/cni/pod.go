package cni

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/containernetworking/cni/libcni"

	"github.com/runlet/runlet/bundle"
)

// PodNetwork is what the plugins are told about a pod.
type PodNetwork struct {
	ID        string // sandbox id: CNI_CONTAINERID and K8S_POD_INFRA_CONTAINER_ID
	NetNSPath string // the pinned namespace (netns.NetNS.Path)
	Name      string // K8S_POD_NAME
	Namespace string // K8S_POD_NAMESPACE
	UID       string // K8S_POD_UID

	// PortMappings become the portMappings capability (the portmap
	// plugin); mappings without a host port are left out, as kubelet
	// expects.
	PortMappings []PortMapping
	// Annotations become the io.kubernetes.cri.pod-annotations capability,
	// as containerd passes them.
	Annotations map[string]string
}

// PortMapping is a CRI PortMapping.
type PortMapping struct {
	Protocol      string // "tcp" (also ""), "udp" or "sctp", any case
	ContainerPort int32
	HostPort      int32
	HostIP        string // "" for every host address
}

// portMapEntry is the portMappings capability's JSON form.
type portMapEntry struct {
	HostPort      int32  `json:"hostPort"`
	ContainerPort int32  `json:"containerPort"`
	Protocol      string `json:"protocol"`
	HostIP        string `json:"hostIP,omitempty"`
}

// validate checks what Setup hands to plugins.
func (p *PodNetwork) validate() error {
	if err := bundle.ValidateID(p.ID); err != nil {
		return fmt.Errorf("cni: pod id: %w", err)
	}
	if !filepath.IsAbs(p.NetNSPath) {
		return fmt.Errorf("cni: pod %s: netns path %q is not absolute (host network pods need no CNI): %w", p.ID, p.NetNSPath, errdefs.ErrInvalidArgument)
	}
	for _, v := range []string{p.Name, p.Namespace, p.UID} {
		if strings.ContainsAny(v, ";=") {
			return fmt.Errorf("cni: pod %s: %q cannot be passed in CNI_ARGS: %w", p.ID, v, errdefs.ErrInvalidArgument)
		}
	}
	for _, m := range p.PortMappings {
		if err := m.validate(); err != nil {
			return fmt.Errorf("cni: pod %s: %w", p.ID, err)
		}
	}
	return nil
}

func (m PortMapping) validate() error {
	switch strings.ToLower(m.Protocol) {
	case "", "tcp", "udp", "sctp":
	default:
		return fmt.Errorf("port mapping protocol %q: %w", m.Protocol, errdefs.ErrInvalidArgument)
	}
	if m.ContainerPort <= 0 || m.ContainerPort > 65535 || m.HostPort < 0 || m.HostPort > 65535 {
		return fmt.Errorf("port mapping %d->%d out of range: %w", m.HostPort, m.ContainerPort, errdefs.ErrInvalidArgument)
	}
	if m.HostIP != "" && net.ParseIP(m.HostIP) == nil {
		return fmt.Errorf("port mapping host IP %q: %w", m.HostIP, errdefs.ErrInvalidArgument)
	}
	return nil
}

// runtimeConf is the libcni call for the pod.
func (n *Network) runtimeConf(p PodNetwork, netnsPath string) *libcni.RuntimeConf {
	return &libcni.RuntimeConf{
		ContainerID: p.ID,
		NetNS:       netnsPath,
		IfName:      n.ifName,
		Args: [][2]string{
			{"IgnoreUnknown", "1"},
			{"K8S_POD_NAMESPACE", p.Namespace},
			{"K8S_POD_NAME", p.Name},
			{"K8S_POD_INFRA_CONTAINER_ID", p.ID},
			{"K8S_POD_UID", p.UID},
		},
		CapabilityArgs: p.capabilities(),
	}
}

// capabilities are the runtime config libcni hands to each plugin that
// declares the capability in its config.
func (p PodNetwork) capabilities() map[string]any {
	caps := map[string]any{}
	var ports []portMapEntry
	for _, m := range p.PortMappings {
		if m.HostPort == 0 {
			continue
		}
		proto := strings.ToLower(m.Protocol)
		if proto == "" {
			proto = "tcp"
		}
		ports = append(ports, portMapEntry{HostPort: m.HostPort, ContainerPort: m.ContainerPort, Protocol: proto, HostIP: m.HostIP})
	}
	if len(ports) > 0 {
		caps["portMappings"] = ports
	}
	if len(p.Annotations) > 0 {
		caps["io.kubernetes.cri.pod-annotations"] = p.Annotations
	}
	return caps
}
