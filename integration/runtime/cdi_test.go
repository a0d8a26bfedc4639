package runtime

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/integration/internal/daemontest"
)

// cdiSpec is a CDI spec with two devices: a character device with
// /dev/null's numbers under a new path and an env var; and an env var
// and a read-only bind mount of dataDir.
const cdiSpec = `cdiVersion: "0.6.0"
kind: runlet.test/dev
devices:
- name: "nullchar"
  containerEdits:
    env: ["RUNLET_CDI=injected"]
    deviceNodes:
    - {path: /dev/runlet-cdi-null, type: c, major: 1, minor: 3}
- name: extra
  containerEdits:
    env: ["RUNLET_CDI_EXTRA=from-annotation"]
    mounts:
    - {hostPath: %q, containerPath: /cdi-data, options: [ro, rbind]}
`

// startWithCDI is startWithBusybox with cdi_spec_dirs naming a directory
// (after one that does not exist) holding cdiSpec.
func startWithCDI(t *testing.T) *fixture {
	t.Helper()
	daemontest.NeedRoot(t)
	specDir, dataDir := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(dataDir, "hello"), []byte("cdi-mount-ok\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(specDir, "runlet-test.yaml"), []byte(fmt.Sprintf(cdiSpec, dataDir)), 0o644); err != nil {
		t.Fatal(err)
	}
	extra := fmt.Sprintf("cdi_spec_dirs = [%q, %q]\n[images]\nimport_dir = %q\n",
		filepath.Join(specDir, "absent"), specDir, busyboxImportDir(t))
	return startExtra(t, extra)
}

func TestCDIDevicesFromTheConfigAndAnnotationsReachTheContainerOnEveryHandler(t *testing.T) {
	f := startWithCDI(t)
	const script = `stat -c 'node=%F %t:%T' /dev/runlet-cdi-null; echo written > /dev/runlet-cdi-null && echo write=ok;
echo env=$RUNLET_CDI/$RUNLET_CDI_EXTRA; echo data=$(cat /cdi-data/hello); echo done; sleep 1000`
	for i, h := range f.handlers {
		name := []string{"cdi-runc", "cdi-crun", "cdi-ctrd"}[i]
		pod := f.runp(t, name, h)
		cfg := f.containerConfigWith(t, name, map[string]any{
			"command":     []string{"sh", "-c", script},
			"CDI_devices": []map[string]string{{"name": "runlet.test/dev=nullchar"}, {"name": "runlet.test/dev=nullchar"}},
			"annotations": map[string]string{"cdi.k8s.io/test": "runlet.test/dev=extra,runlet.test/dev=nullchar"},
		})
		ctr := strings.TrimSpace(f.MustCrictl(t, "create", pod, cfg, filepath.Join(f.Dir, name+"-pod.json")))
		f.MustCrictl(t, "start", ctr)
		out := f.waitLogs(t, ctr, "done")
		for _, want := range []string{"node=character special file 1:3", "write=ok", "env=injected/from-annotation", "data=cdi-mount-ok"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: the container's output lacks %q:\n%s", name, want, out)
			}
		}
		f.MustCrictl(t, "rmp", "-f", pod)
	}
	f.assertNothingLeft(t)
}

func TestAnUnknownCDIDeviceIsInvalidArgumentNamingItAndLeavesNothing(t *testing.T) {
	f := startWithCDI(t)
	pod := f.runp(t, "cdi-unknown", "")
	ctx := daemontest.Ctx(t)
	bundlesBefore, _ := os.ReadDir(filepath.Join(f.State, "bundles", "k8s.io"))
	snapshotsBefore, _ := os.ReadDir(filepath.Join(f.Root, "snapshots"))
	cfg := &runtimeapi.ContainerConfig{
		Metadata:    &runtimeapi.ContainerMetadata{Name: "app"},
		Image:       &runtimeapi.ImageSpec{Image: busybox},
		Command:     []string{"sleep", "1000"},
		CDIDevices:  []*runtimeapi.CDIDevice{{Name: "runlet.test/dev=nullchar"}},
		Annotations: map[string]string{"cdi.k8s.io/test": "runlet.test/dev=missing"},
	}
	_, err := f.Runtime.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: pod, Config: cfg})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "runlet.test/dev=missing") {
		t.Fatalf("CreateContainer with an unknown CDI device: %v, want InvalidArgument naming runlet.test/dev=missing", err)
	}
	list, err := f.Runtime.ListContainers(ctx, &runtimeapi.ListContainersRequest{})
	if err != nil || len(list.GetContainers()) != 0 {
		t.Fatalf("containers after the refusal: %v, %v", list.GetContainers(), err)
	}
	if after, _ := os.ReadDir(filepath.Join(f.State, "bundles", "k8s.io")); len(after) != len(bundlesBefore) {
		t.Fatalf("bundles: %d before, %d after the refusal", len(bundlesBefore), len(after))
	}
	if after, _ := os.ReadDir(filepath.Join(f.Root, "snapshots")); len(after) != len(snapshotsBefore) {
		t.Fatalf("snapshots: %d before, %d after the refusal", len(snapshotsBefore), len(after))
	}
	if entries, _ := os.ReadDir(filepath.Join(f.State, "fifo")); len(entries) != 0 {
		t.Fatalf("fifo dirs after the refusal: %d", len(entries))
	}
	// The name was released: the same container without the unknown
	// device is made.
	cfg.Annotations = nil
	if _, err := f.Runtime.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: pod, Config: cfg}); err != nil {
		t.Fatalf("the same name without the unknown device: %v", err)
	}
	f.MustCrictl(t, "rmp", "-f", pod)
	f.assertNothingLeft(t)
}

// A device node under a path the host lacks cannot reach a user namespace
// pod: runc and crun can only bind the host's node there (as with
// containerd), so this pod asks for the env and mount device only.
func TestCDIMountsReachAUserNamespacePodIDMappedOnEveryHandler(t *testing.T) {
	daemontest.Tool(t, "crictl") // waitLogs and the cleanup of a failure need it: check before making pods
	f := startWithCDI(t)
	for i, h := range f.handlers[:2] {
		name := []string{"cdi-userns-runc", "cdi-userns-crun"}[i]
		userns := usernsPod(uint32(200000 + i*65536))
		pod, sb := f.runUsernsPod(t, name, h, userns)
		ctr := f.startCtr(t, pod, sb, &runtimeapi.ContainerConfig{
			Metadata: &runtimeapi.ContainerMetadata{Name: name}, Image: &runtimeapi.ImageSpec{Image: busybox},
			Linux: &runtimeapi.LinuxContainerConfig{SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
				NamespaceOptions: &runtimeapi.NamespaceOption{UsernsOptions: userns}}},
			Command:    []string{"sh", "-c", "echo env=$RUNLET_CDI_EXTRA; echo data=$(cat /cdi-data/hello); stat -c 'owner=%u' /cdi-data/hello; echo done; sleep 1000"},
			LogPath:    name + ".log",
			CDIDevices: []*runtimeapi.CDIDevice{{Name: "runlet.test/dev=extra"}},
		})
		out := f.waitLogs(t, ctr, "done")
		// The mount is id-mapped like the pod's own files: its root-owned
		// file is root's in the pod, not nobody's.
		for _, want := range []string{"env=from-annotation", "data=cdi-mount-ok", "owner=0"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: the container's output lacks %q:\n%s", name, want, out)
			}
		}
		f.MustCrictl(t, "rmp", "-f", pod)
	}
	f.assertNothingLeft(t)
}
