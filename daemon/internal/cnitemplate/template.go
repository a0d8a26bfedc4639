// Package cnitemplate renders a CNI network config from a template and the
// node's pod CIDRs, as containerd's CRI plugin does with its cni
// conf_template when kubelet sends the pod CIDR (UpdateRuntimeConfig): the
// template sees the same fields, so containerd's templates work unchanged.
package cnitemplate

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/containerd/errdefs"
)

// FileName is the config file Render writes in the CNI config dir
// (containerd writes 10-containerd-net.conflist).
const FileName = "10-runlet-net.conflist"

// Data is what a template sees; the names are containerd's.
type Data struct {
	PodCIDR       string   // the first CIDR
	PodCIDRRanges []string // every CIDR, in kubelet's order
	Routes        []string // a default route per address family of the CIDRs
}

// ParseCIDRs splits kubelet's pod_cidr ("10.88.0.0/24,fd00::/64") into
// CIDRs; a malformed one is errdefs.ErrInvalidArgument.
func ParseCIDRs(podCIDR string) ([]string, error) {
	var out []string
	for _, c := range strings.Split(podCIDR, ",") {
		c = strings.TrimSpace(c)
		if _, _, err := net.ParseCIDR(c); err != nil {
			return nil, fmt.Errorf("pod CIDR %q: %v: %w", c, err, errdefs.ErrInvalidArgument)
		}
		out = append(out, c)
	}
	return out, nil
}

// NewData is the template data of the CIDRs (from ParseCIDRs).
func NewData(cidrs []string) Data {
	d := Data{PodCIDRRanges: cidrs}
	if len(cidrs) > 0 {
		d.PodCIDR = cidrs[0]
	}
	seen := map[string]bool{}
	for _, c := range cidrs {
		ip, _, _ := net.ParseCIDR(c)
		route := "::/0"
		if ip.To4() != nil {
			route = "0.0.0.0/0"
		}
		if !seen[route] {
			seen[route] = true
			d.Routes = append(d.Routes, route)
		}
	}
	return d
}

// Render executes the template file tmpl with d and writes the result to
// confDir/FileName, whole or not at all (a temp file renamed into place),
// so that a pod never reads half a config. It returns the file's path. A
// template that does not parse or execute is errdefs.ErrFailedPrecondition
// naming it.
func Render(tmpl, confDir string, d Data) (string, error) {
	t, err := template.ParseFiles(tmpl)
	if err != nil {
		return "", fmt.Errorf("CNI config template: %v: %w", err, errdefs.ErrFailedPrecondition)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, d); err != nil {
		return "", fmt.Errorf("CNI config template %s: %v: %w", tmpl, err, errdefs.ErrFailedPrecondition)
	}
	if err := os.MkdirAll(confDir, 0o755); err != nil {
		return "", fmt.Errorf("CNI config dir: %w", err)
	}
	tmp, err := os.CreateTemp(confDir, "."+FileName+"-*")
	if err != nil {
		return "", fmt.Errorf("CNI config: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails once renamed
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return "", fmt.Errorf("CNI config: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return "", fmt.Errorf("CNI config: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("CNI config: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("CNI config: %w", err)
	}
	dst := filepath.Join(confDir, FileName)
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", fmt.Errorf("CNI config: %w", err)
	}
	return dst, nil
}
