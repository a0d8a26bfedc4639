package cni

import (
	"fmt"
	"net"
	"sort"

	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"
)

// podIPs picks the addresses of the pod's interface from a CNI result: IPs
// on the sandbox interface named ifName, and IPs that name no interface.
// IPv4 comes first, as kubelet takes the first IP as the pod's primary one.
func podIPs(res types.Result, ifName string) ([]net.IP, error) {
	r, err := types100.NewResultFromResult(res)
	if err != nil {
		return nil, fmt.Errorf("convert CNI result: %w", err)
	}
	var ips []net.IP
	for _, c := range r.IPs {
		if onPodInterface(r, c, ifName) {
			ips = append(ips, c.Address.IP)
		}
	}
	sort.SliceStable(ips, func(i, j int) bool { return ips[i].To4() != nil && ips[j].To4() == nil })
	return ips, nil
}

func onPodInterface(r *types100.Result, c *types100.IPConfig, ifName string) bool {
	if c.Interface == nil {
		return true
	}
	i := *c.Interface
	if i < 0 || i >= len(r.Interfaces) {
		return false
	}
	iface := r.Interfaces[i]
	return iface.Sandbox != "" && iface.Name == ifName
}
