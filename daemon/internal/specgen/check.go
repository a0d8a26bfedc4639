package specgen

import runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

// CheckSandbox refuses, with InvalidArgument, the parts of a pod's config
// that can be judged before anything is made for it: its sysctls (names,
// values, namespaces) and its user namespace mappings. SandboxSpec checks
// them again.
func CheckSandbox(cfg *runtimeapi.PodSandboxConfig) error {
	if err := checkSysctls(cfg); err != nil {
		return err
	}
	_, _, err := idMappings(cfg.GetLinux().GetSecurityContext().GetNamespaceOptions())
	return err
}
