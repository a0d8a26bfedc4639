package cri

import (
	"context"
	"strings"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ReleaseVersion is runletd's semantic version (semver.org 2.0). The build
// adds the commit it was made from as build metadata (RuntimeVersion); the
// Makefile reads this constant to stamp the shims with the same version.
const ReleaseVersion = "0.1.0"

// criAPIVersion is the VersionResponse.version kubelet expects (the version
// of the kubelet runtime API, "0.1.0" for every CRI v1 runtime).
const criAPIVersion = "0.1.0"

// Version reports the runtime name and version and the CRI version served.
// The CRI requires runtime_version to be semver: kubelet parses it, and a
// node shows "runlet://Unknown" when it cannot.
func (s *Server) Version(ctx context.Context, req *runtime.VersionRequest) (*runtime.VersionResponse, error) {
	return &runtime.VersionResponse{
		Version:           criAPIVersion,
		RuntimeName:       RuntimeName,
		RuntimeVersion:    s.version,
		RuntimeApiVersion: "v1",
	}, nil
}

// RuntimeVersion is the semver runtime_version of a build from commit:
// ReleaseVersion with the commit as build metadata ("0.1.0+3d84577",
// "0.1.0+3d84577-dirty"), or "+unknown" when the build did not say, as
// containerd reports "2.3.1+unknown". Characters semver does not allow in
// build metadata become '-'.
func RuntimeVersion(commit string) string {
	var ids []string
	for _, id := range strings.Split(commit, ".") {
		id = strings.Map(func(r rune) rune {
			if r == '-' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' {
				return r
			}
			return '-'
		}, id)
		if id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		ids = []string{"unknown"}
	}
	return ReleaseVersion + "+" + strings.Join(ids, ".")
}
