package kubelet

import (
	"encoding/json"
	"testing"
)

// Runtime classes the test makes: one per runletd handler and one naming
// a handler runletd does not have.
const (
	unknownHandler = "no-such-handler"
	runcClass      = "runlet-runc"
	crunClass      = "runlet-crun"
	unknownClass   = "runlet-unknown"
)

// runtimeClasses is the RuntimeClass objects, and the default service
// account pods are admitted with (no controller-manager makes it here).
func runtimeClasses() string {
	return `apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: ` + runcClass + `}
handler: runc
---
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: ` + crunClass + `}
handler: crun
---
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: ` + unknownClass + `}
handler: ` + unknownHandler + `
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: default, namespace: default}
`
}

// webScript is the web pods' app container: it shows what its init
// container and hostPath volume hold, then serves its name on port 8080.
const webScript = `echo "init wrote: $(cat /scratch/init)"; echo "host file: $(cat /host/hello)"
mkdir -p /www && echo "served by $(hostname)" > /www/index.html
exec httpd -f -p 8080 -h /www`

// webPod is a pod on the node with class's RuntimeClass: an init
// container writing into an emptyDir, then an app container reading it
// and a hostPath directory and serving HTTP on 8080.
func webPod(t *testing.T, name, class, image, hostDir string) string {
	t.Helper()
	return podJSON(t, name, class, map[string]any{
		"initContainers": []any{container("init", image, "echo $(hostname) > /scratch/init", map[string]any{
			"volumeMounts": []any{map[string]any{"name": "scratch", "mountPath": "/scratch"}}})},
		"containers": []any{container("web", image, webScript, map[string]any{
			"ports": []any{map[string]any{"containerPort": 8080}},
			"volumeMounts": []any{
				map[string]any{"name": "scratch", "mountPath": "/scratch"},
				map[string]any{"name": "host", "mountPath": "/host", "readOnly": true},
			}})},
		"volumes": []any{
			map[string]any{"name": "scratch", "emptyDir": map[string]any{}},
			map[string]any{"name": "host", "hostPath": map[string]any{"path": hostDir, "type": "Directory"}},
		},
	})
}

// probeScript fails its liveness probe in its first run only: the marker
// in the emptyDir outlives the container, /tmp/healthy does not.
const probeScript = `if [ -e /state/ran ]; then touch /tmp/healthy; else touch /state/ran; fi; exec sleep 3600`

// probedPod is a pod whose container an exec liveness probe restarts once.
func probedPod(t *testing.T, name, image string) string {
	t.Helper()
	return podJSON(t, name, runcClass, map[string]any{
		"containers": []any{container("app", image, probeScript, map[string]any{
			"livenessProbe": map[string]any{
				"exec":          map[string]any{"command": []string{"cat", "/tmp/healthy"}},
				"periodSeconds": 1, "failureThreshold": 2,
			},
			"volumeMounts": []any{map[string]any{"name": "state", "mountPath": "/state"}},
		})},
		"volumes": []any{map[string]any{"name": "state", "emptyDir": map[string]any{}}},
	})
}

// sleeperPod is a pod that only sleeps, with class's RuntimeClass.
func sleeperPod(t *testing.T, name, class, image string) string {
	t.Helper()
	return podJSON(t, name, class, map[string]any{
		"containers": []any{container("sleep", image, "exec sleep 3600", nil)},
	})
}

// container is a busybox container running script with sh, plus fields.
func container(name, image, script string, fields map[string]any) map[string]any {
	c := map[string]any{"name": name, "image": image, "imagePullPolicy": "IfNotPresent",
		"command": []string{"sh", "-c", script}}
	for k, v := range fields {
		c[k] = v
	}
	return c
}

// podJSON is a pod bound to the node (no scheduler runs), with class's
// RuntimeClass, no service account token, a short grace period and spec.
func podJSON(t *testing.T, name, class string, spec map[string]any) string {
	t.Helper()
	spec["nodeName"] = nodeName
	spec["runtimeClassName"] = class
	spec["automountServiceAccountToken"] = false
	spec["terminationGracePeriodSeconds"] = 2
	b, err := json.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": "default"},
		"spec":     spec,
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// resizedPod is a burstable pod whose container the test resizes in place.
func resizedPod(t *testing.T, name, image string) string {
	t.Helper()
	return podJSON(t, name, runcClass, map[string]any{
		"containers": []any{container("app", image, "exec sleep 3600", map[string]any{
			"resources": resources("100m", "32Mi", "200m", "64Mi"),
		})},
	})
}

// resources is a container's requests and limits.
func resources(cpuRequest, memRequest, cpuLimit, memLimit string) map[string]any {
	return map[string]any{
		"requests": map[string]string{"cpu": cpuRequest, "memory": memRequest},
		"limits":   map[string]string{"cpu": cpuLimit, "memory": memLimit},
	}
}

// resizePatch resizes the container "app" of a resizedPod.
func resizePatch(t *testing.T, cpuLimit, memLimit string) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"spec": map[string]any{"containers": []any{
		map[string]any{"name": "app", "resources": resources("100m", "32Mi", cpuLimit, memLimit)},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
