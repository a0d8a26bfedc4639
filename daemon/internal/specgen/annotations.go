package specgen

import (
	"path"
	"strconv"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Annotation keys containerd writes into the specs it generates; shims,
// NRI plugins and runtimes such as Kata read them. runlet's shims group a
// pod's containers by AnnotationSandboxID.
const (
	AnnotationContainerType    = "io.kubernetes.cri.container-type"
	AnnotationSandboxID        = "io.kubernetes.cri.sandbox-id"
	AnnotationSandboxName      = "io.kubernetes.cri.sandbox-name"
	AnnotationSandboxNamespace = "io.kubernetes.cri.sandbox-namespace"
	AnnotationSandboxUID       = "io.kubernetes.cri.sandbox-uid"
	AnnotationSandboxLogDir    = "io.kubernetes.cri.sandbox-log-directory"
	AnnotationSandboxImageName = "io.kubernetes.cri.podsandbox.image-name"
	AnnotationContainerName    = "io.kubernetes.cri.container-name"
	AnnotationImageName        = "io.kubernetes.cri.image-name"
	AnnotationSandboxCPUPeriod = "io.kubernetes.cri.sandbox-cpu-period"
	AnnotationSandboxCPUQuota  = "io.kubernetes.cri.sandbox-cpu-quota"
	AnnotationSandboxCPUShares = "io.kubernetes.cri.sandbox-cpu-shares"
	AnnotationSandboxMemory    = "io.kubernetes.cri.sandbox-memory"

	ContainerTypeSandbox   = "sandbox"
	ContainerTypeContainer = "container"
)

// passthrough copies the annotations whose keys match one of the
// path.Match patterns, as containerd's pod_annotations and
// container_annotations do.
func passthrough(dst, src map[string]string, patterns []string) {
	for k, v := range src {
		for _, p := range patterns {
			if ok, _ := path.Match(p, k); ok {
				dst[k] = v
				break
			}
		}
	}
}

// sandboxAnnotations are containerd's for a pause container: the pod's
// identity, log directory and pause image, its resources when kubelet sent
// them, and the pod annotations matching patterns.
func sandboxAnnotations(id, image string, cfg *runtimeapi.PodSandboxConfig, patterns []string) map[string]string {
	a := map[string]string{}
	passthrough(a, cfg.GetAnnotations(), patterns)
	podIdentity(a, id, cfg)
	a[AnnotationSandboxLogDir] = cfg.GetLogDirectory()
	a[AnnotationSandboxImageName] = image
	if r := cfg.GetLinux().GetResources(); r != nil {
		a[AnnotationSandboxCPUPeriod] = strconv.FormatInt(r.GetCpuPeriod(), 10)
		a[AnnotationSandboxCPUQuota] = strconv.FormatInt(r.GetCpuQuota(), 10)
		a[AnnotationSandboxCPUShares] = strconv.FormatInt(r.GetCpuShares(), 10)
		a[AnnotationSandboxMemory] = strconv.FormatInt(r.GetMemoryLimitInBytes(), 10)
	}
	a[AnnotationContainerType] = ContainerTypeSandbox
	return a
}

// containerAnnotations are containerd's for an app container: the pod's
// identity, the container and image names, and the matching pod and
// container annotations. The log directory is the sandbox's only, as in
// containerd.
func containerAnnotations(cfg *runtimeapi.ContainerConfig, sb *runtimeapi.PodSandboxConfig, o ContainerOptions) map[string]string {
	a := map[string]string{}
	passthrough(a, sb.GetAnnotations(), o.PodAnnotations)
	passthrough(a, cfg.GetAnnotations(), o.ContainerAnnotations)
	podIdentity(a, o.SandboxID, sb)
	image := o.ImageName
	if image == "" {
		image = cfg.GetImage().GetImage()
	}
	a[AnnotationContainerName] = cfg.GetMetadata().GetName()
	a[AnnotationImageName] = image
	a[AnnotationContainerType] = ContainerTypeContainer
	return a
}

func podIdentity(a map[string]string, sandboxID string, cfg *runtimeapi.PodSandboxConfig) {
	a[AnnotationSandboxID] = sandboxID
	a[AnnotationSandboxName] = cfg.GetMetadata().GetName()
	a[AnnotationSandboxNamespace] = cfg.GetMetadata().GetNamespace()
	a[AnnotationSandboxUID] = cfg.GetMetadata().GetUid()
}
