package specgen

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// seccompProfile picks the profile the CRI asks for: seccomp, else the
// deprecated seccomp_profile_path. No profile and Unconfined mean none, as
// in containerd; so does privileged. RuntimeDefault is defaultSeccomp for
// the container's bounding set; Localhost reads the JSON profile at the
// absolute localhost_ref, which must lie under root when root is set.
func seccompProfile(field string, sp *runtimeapi.SecurityProfile, deprecatedPath string, privileged bool, caps []string, root string) (*specs.LinuxSeccomp, error) {
	if sp == nil {
		var err error
		if sp, err = parseProfilePath(field+".seccomp_profile_path", deprecatedPath); err != nil {
			return nil, err
		}
	}
	if privileged || sp == nil {
		return nil, nil
	}
	if sp.GetProfileType() != runtimeapi.SecurityProfile_Localhost && sp.GetLocalhostRef() != "" {
		return nil, invalidf(field+".seccomp.localhost_ref", "set for profile type %s", sp.GetProfileType())
	}
	switch sp.GetProfileType() {
	case runtimeapi.SecurityProfile_Unconfined:
		return nil, nil
	case runtimeapi.SecurityProfile_RuntimeDefault:
		return defaultSeccomp(caps), nil
	case runtimeapi.SecurityProfile_Localhost:
		return localhostSeccomp(field+".seccomp.localhost_ref", sp.GetLocalhostRef(), root)
	}
	return nil, invalidf(field+".seccomp.profile_type", "unknown type %d", sp.GetProfileType())
}

// parseProfilePath reads the deprecated string form: "", "unconfined",
// "runtime/default", "docker/default" or "localhost/<path>".
func parseProfilePath(field, p string) (*runtimeapi.SecurityProfile, error) {
	switch {
	case p == "":
		return nil, nil
	case p == "unconfined":
		return &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Unconfined}, nil
	case p == "runtime/default" || p == "docker/default":
		return &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault}, nil
	case strings.HasPrefix(p, "localhost/"):
		return &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Localhost, LocalhostRef: strings.TrimPrefix(p, "localhost/")}, nil
	}
	return nil, invalidf(field, "unknown profile %q", p)
}

func localhostSeccomp(field, ref, root string) (*specs.LinuxSeccomp, error) {
	ref = strings.TrimPrefix(ref, "localhost/")
	if !filepath.IsAbs(ref) {
		return nil, invalidf(field, "%q is not an absolute path", ref)
	}
	resolved, err := filepath.EvalSymlinks(ref)
	if os.IsNotExist(err) {
		return nil, invalidf(field, "profile %q does not exist", ref)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: resolve %q: %w", field, ref, err)
	}
	if root != "" && !under(root, resolved) {
		return nil, invalidf(field, "%q is not under the seccomp profile root %s", ref, root)
	}
	data, err := os.ReadFile(resolved)
	if err != nil {
		return nil, fmt.Errorf("%s: read %q: %w", field, ref, err)
	}
	var profile specs.LinuxSeccomp
	if err := json.Unmarshal(data, &profile); err != nil {
		return nil, invalidf(field, "profile %q is not a seccomp profile: %v", ref, err)
	}
	if profile.DefaultAction == "" {
		return nil, invalidf(field, "profile %q has no defaultAction", ref)
	}
	return &profile, nil
}

// under says whether p, symlinks resolved, lies in dir (symlinks resolved).
func under(dir, p string) bool {
	if d, err := filepath.EvalSymlinks(dir); err == nil {
		dir = d
	}
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}
