package runtime

import runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

func stopReq(id string) *runtimeapi.StopPodSandboxRequest {
	return &runtimeapi.StopPodSandboxRequest{PodSandboxId: id}
}

func removeReq(id string) *runtimeapi.RemovePodSandboxRequest {
	return &runtimeapi.RemovePodSandboxRequest{PodSandboxId: id}
}

func execReq(id string, timeout int64, cmd ...string) *runtimeapi.ExecSyncRequest {
	return &runtimeapi.ExecSyncRequest{ContainerId: id, Cmd: cmd, Timeout: timeout}
}
