package runtime

import (
	"archive/tar"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/integration/images/testimages"
	"github.com/runlet/runlet/integration/internal/daemontest"
)

// volImage is busybox plus a layer with /etc/marker and /data/seed (owned
// by 1234), declaring the volumes /data and /empty: two layers, so an
// image volume of it is an overlay.
const volImage = "localhost/runlet-it/volimg:1"

// startWithVolumeImages is start with busybox and volImage imported.
func startWithVolumeImages(t *testing.T) *fixture {
	t.Helper()
	files, err := testimages.BusyboxFiles()
	if err != nil {
		t.Fatal(err)
	}
	base, err := testimages.Layer(files)
	if err != nil {
		t.Fatal(err)
	}
	top, err := testimages.Layer([]testimages.File{
		{Name: "etc/", Mode: 0o755, Type: tar.TypeDir},
		{Name: "etc/marker", Mode: 0o644, Data: []byte("from the volume image")},
		{Name: "data/", Mode: 0o750, Type: tar.TypeDir, Uid: 1234, Gid: 1234},
		{Name: "data/seed", Mode: 0o640, Data: []byte("seed"), Uid: 1234, Gid: 1234},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testimages.Config("amd64", "", "sh")
	cfg.Config.Volumes = map[string]struct{}{"/data": {}, "/empty": {}}
	img, err := testimages.Image(cfg, base, top)
	if err != nil {
		t.Fatal(err)
	}
	return startWithImages(t, map[string]v1.Image{volImage: img})
}

// imageID is the id ImageStatus reports for ref.
func (f *fixture) imageID(t *testing.T, ref string) string {
	t.Helper()
	st, err := f.Images.ImageStatus(daemontest.Ctx(t), &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: ref}})
	if err != nil || st.GetImage() == nil {
		t.Fatalf("image status of %s: %v (%v)", ref, st, err)
	}
	return st.GetImage().GetId()
}

// podSandboxConfig reads back the config runp used.
func (f *fixture) podSandboxConfig(t *testing.T, name string) *runtimeapi.PodSandboxConfig {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.Dir, name+"-pod.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg runtimeapi.PodSandboxConfig
	if err := protojson.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	return &cfg
}

// createCtr creates a container of image running sleep with mounts.
func (f *fixture) createCtr(t *testing.T, pod, podName, name, image string, ro bool, mounts ...*runtimeapi.Mount) (string, error) {
	t.Helper()
	r, err := f.Runtime.CreateContainer(daemontest.Ctx(t), &runtimeapi.CreateContainerRequest{
		PodSandboxId: pod, SandboxConfig: f.podSandboxConfig(t, podName),
		Config: &runtimeapi.ContainerConfig{
			Metadata: &runtimeapi.ContainerMetadata{Name: name}, Image: &runtimeapi.ImageSpec{Image: image},
			Command: []string{"sleep", "1000"}, Mounts: mounts,
			Linux: &runtimeapi.LinuxContainerConfig{SecurityContext: &runtimeapi.LinuxContainerSecurityContext{ReadonlyRootfs: ro}},
		},
	})
	return r.GetContainerId(), err
}

// sh runs script in the container and returns its stdout, stderr and
// exit code.
func (f *fixture) sh(t *testing.T, ctr, script string) (string, string, int32) {
	t.Helper()
	r, err := f.Runtime.ExecSync(daemontest.Ctx(t), execReq(ctr, 20, "sh", "-c", script))
	if err != nil {
		t.Fatalf("exec %q: %v", script, err)
	}
	return strings.TrimSpace(string(r.GetStdout())), strings.TrimSpace(string(r.GetStderr())), r.GetExitCode()
}

func imageMount(path, image, sub string, ro bool) *runtimeapi.Mount {
	return &runtimeapi.Mount{ContainerPath: path, Readonly: ro, ImageSubPath: sub,
		Image: &runtimeapi.ImageSpec{Image: image, UserSpecifiedImage: volImage}}
}

// assertImageVolumesGone checks no image volume mount, directory or
// snapshot is left.
func (f *fixture) assertImageVolumesGone(t *testing.T) {
	t.Helper()
	dir := filepath.Join(f.State, "image-volumes")
	if m := daemontest.MountsUnder(dir); len(m) != 0 {
		t.Errorf("image volume mounts left: %v", m)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("image-volumes still holds %d entries", len(entries))
	}
	snaps, _ := os.ReadDir(filepath.Join(f.Root, "snapshots"))
	for _, s := range snaps {
		if strings.Contains(s.Name(), "-iv") {
			t.Errorf("image volume snapshot left: %s", s.Name())
		}
	}
}

func TestAnImageVolumeShowsTheImageReadOnlyAndGoesWithItsContainer(t *testing.T) {
	f := startWithVolumeImages(t)
	ctx := daemontest.Ctx(t)
	id := f.imageID(t, volImage)
	pod := f.runp(t, "iv", "")
	ctr, err := f.createCtr(t, pod, "iv", "iv", busybox, false,
		imageMount("/mnt/iv", id, "", true), imageMount("/mnt/sub", id, "etc", true))
	if err != nil {
		t.Fatal(err)
	}
	f.MustCrictl(t, "start", ctr)
	if out, _, code := f.sh(t, ctr, "cat /mnt/iv/etc/marker; echo; cat /mnt/sub/marker"); code != 0 || out != "from the volume image\nfrom the volume image" {
		t.Fatalf("the image's files at the mount and its sub path: %q (exit %d)", out, code)
	}
	if _, stderr, code := f.sh(t, ctr, "touch /mnt/iv/new"); code == 0 || !strings.Contains(stderr, "Read-only") {
		t.Fatalf("a write into the image volume: exit %d, %q", code, stderr)
	}
	if out, stderr, code := f.sh(t, ctr, "/mnt/iv/bin/busybox echo exec-ok"); code != 0 || out != "exec-ok" {
		t.Fatalf("a binary of the image volume does not run (noexec?): %q %q", out, stderr)
	}
	st, err := f.Runtime.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: ctr})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range st.GetStatus().GetMounts() {
		if m.GetImage().GetImageRef() != id {
			t.Errorf("status mount %s: image_ref %q, want %q", m.GetContainerPath(), m.GetImage().GetImageRef(), id)
		}
	}
	if m := daemontest.MountsUnder(filepath.Join(f.State, "image-volumes")); len(m) != 2 {
		t.Fatalf("host mounts of the image volumes: %v, want 2", m)
	}
	// As with containerd, the image can be removed meanwhile: its layers
	// stay while the volume shows them. (Its bottom layer is busybox's.)
	layers := filepath.Join(f.Root, "images", "layers", "sha256")
	before, _ := os.ReadDir(layers)
	if _, err := f.Images.RemoveImage(ctx, &runtimeapi.RemoveImageRequest{Image: &runtimeapi.ImageSpec{Image: id}}); err != nil {
		t.Fatal(err)
	}
	if out, _, code := f.sh(t, ctr, "cat /mnt/iv/etc/marker"); code != 0 || out != "from the volume image" {
		t.Fatalf("after rmi: %q (exit %d)", out, code)
	}
	if entries, _ := os.ReadDir(layers); len(entries) != len(before) {
		t.Fatalf("%d layers while the volume shows the removed image, want %d", len(entries), len(before))
	}
	f.MustCrictl(t, "rm", "-f", ctr)
	f.assertImageVolumesGone(t)
	if entries, _ := os.ReadDir(layers); len(entries) != len(before)-1 {
		t.Fatalf("%d layers after the container went, want %d: the image's own layer is freed", len(entries), len(before)-1)
	}
	f.MustCrictl(t, "rmp", "-f", pod)
	f.assertNothingLeft(t)
}

func TestAnImageVolumeWorksOnEveryHandler(t *testing.T) {
	f := startWithVolumeImages(t)
	id := f.imageID(t, volImage)
	for i, h := range f.handlers {
		name := []string{"ivrunc", "ivcrun", "ivctrd"}[i]
		pod := f.runp(t, name, h)
		ctr, err := f.createCtr(t, pod, name, "c", busybox, false, imageMount("/mnt/iv", id, "etc", true))
		if err != nil {
			t.Fatalf("%s: %v", h, err)
		}
		f.MustCrictl(t, "start", ctr)
		if out, _, code := f.sh(t, ctr, "cat /mnt/iv/marker"); code != 0 || out != "from the volume image" {
			t.Fatalf("%s: %q (exit %d)", h, out, code)
		}
		if _, _, code := f.sh(t, ctr, "touch /mnt/iv/new"); code == 0 {
			t.Fatalf("%s: the image volume is writable", h)
		}
		f.MustCrictl(t, "rmp", "-f", pod)
		f.assertImageVolumesGone(t)
	}
	f.assertNothingLeft(t)
}

func TestAnImageVolumeIsRefusedForAMissingImageAWritableMountOrAMissingSubPath(t *testing.T) {
	f := startWithVolumeImages(t)
	id := f.imageID(t, volImage)
	pod := f.runp(t, "ivbad", "")
	for _, tc := range []struct {
		name  string
		mount *runtimeapi.Mount
		code  codes.Code
		msg   string
	}{
		{"missing", imageMount("/mnt/iv", "localhost/runlet-it/nowhere:1", "", true), codes.NotFound, "not in the image store"},
		{"writable", imageMount("/mnt/iv", id, "", false), codes.InvalidArgument, "read-only"},
		{"nosub", imageMount("/mnt/iv", id, "not-existing", true), codes.InvalidArgument, "does not exist in the image"},
		// The view is mounted before the bad path is found: it must go.
		{"badpath", imageMount("relative", id, "", true), codes.InvalidArgument, "container_path"},
	} {
		_, err := f.createCtr(t, pod, "ivbad", tc.name, busybox, false, tc.mount)
		if s, _ := status.FromError(err); s.Code() != tc.code || !strings.Contains(s.Message(), tc.msg) {
			t.Errorf("%s: %v, want %s naming %q", tc.name, err, tc.code, tc.msg)
		}
		f.assertImageVolumesGone(t)
	}
	if out := f.MustCrictl(t, "ps", "-a", "-q"); strings.TrimSpace(out) != "" {
		t.Fatalf("a refused container is listed: %q", out)
	}
	f.MustCrictl(t, "rmp", "-f", pod)
	f.assertNothingLeft(t)
}

func TestImageVolumesAreReleasedAfterARestart(t *testing.T) {
	f := startWithVolumeImages(t)
	id := f.imageID(t, volImage)
	pod := f.runp(t, "ivrestart", "")
	ctr, err := f.createCtr(t, pod, "ivrestart", "c", busybox, false, imageMount("/mnt/iv", id, "", true))
	if err != nil {
		t.Fatal(err)
	}
	f.MustCrictl(t, "start", ctr)
	// What a create cut short by a crash would leave: a mount and a
	// directory of a container with no record.
	orphan := filepath.Join(f.State, "image-volumes", strings.Repeat("ab", 32), "0")
	if err := os.MkdirAll(orphan, 0o700); err != nil {
		t.Fatal(err)
	}
	mountTmpfs(t, orphan)
	f.Proc.Kill()
	f.Restart(t)
	if _, err := os.Stat(filepath.Dir(orphan)); !os.IsNotExist(err) {
		t.Errorf("the orphan image volume survived the restart: %v", err)
	}
	if out, _, code := f.sh(t, ctr, "cat /mnt/iv/etc/marker"); code != 0 || out != "from the volume image" {
		t.Fatalf("after the restart: %q (exit %d)", out, code)
	}
	f.MustCrictl(t, "rm", "-f", ctr)
	f.assertImageVolumesGone(t)
	f.MustCrictl(t, "rmp", "-f", pod)
	f.assertNothingLeft(t)
}

func TestImageDeclaredVolumesAreWritableCopiesUnlessACRIMountCoversThem(t *testing.T) {
	f := startWithVolumeImages(t)
	pod := f.runp(t, "decl", "")
	ctr, err := f.createCtr(t, pod, "decl", "c", volImage, true)
	if err != nil {
		t.Fatal(err)
	}
	f.MustCrictl(t, "start", ctr)
	if out, _, code := f.sh(t, ctr, "cat /data/seed; echo; stat -c '%u %a' /data /data/seed; test -d /empty && echo empty-dir"); code != 0 ||
		out != "seed\n1234 750\n1234 640\nempty-dir" {
		t.Fatalf("the declared volumes: %q (exit %d)", out, code)
	}
	if _, stderr, code := f.sh(t, ctr, "echo new > /data/new && echo x > /empty/x"); code != 0 {
		t.Fatalf("the volumes are not writable under a read-only rootfs: %s", stderr)
	}
	if _, _, code := f.sh(t, ctr, "touch /rootfs-file"); code == 0 {
		t.Fatal("the rootfs is writable although read-only was asked")
	}
	vols := filepath.Join(f.Root, "containers", ctr, "volumes")
	if b, err := os.ReadFile(filepath.Join(vols, "0", "new")); err != nil || string(b) != "new\n" {
		t.Fatalf("the /data volume on the host: %q, %v", b, err)
	}

	host := t.TempDir()
	covered, err := f.createCtr(t, pod, "decl", "covered", volImage, false,
		&runtimeapi.Mount{ContainerPath: "/data", HostPath: host})
	if err != nil {
		t.Fatal(err)
	}
	f.MustCrictl(t, "start", covered)
	if out, _, _ := f.sh(t, covered, "ls -A /data; test -d /empty && echo empty-dir"); out != "empty-dir" {
		t.Fatalf("the CRI mount at /data should win over the image's volume: %q", out)
	}
	if entries, _ := os.ReadDir(filepath.Join(f.Root, "containers", covered, "volumes")); len(entries) != 1 {
		t.Fatalf("%d volume dirs for the covered container, want 1 (/empty)", len(entries))
	}
	f.MustCrictl(t, "rm", "-f", ctr, covered)
	if entries, _ := os.ReadDir(filepath.Join(f.Root, "containers")); len(entries) != 0 {
		t.Fatalf("volume data left after removal: %d containers", len(entries))
	}
	f.MustCrictl(t, "rmp", "-f", pod)
	f.assertNothingLeft(t)
}

// mountTmpfs mounts a tmpfs at dir until the test ends.
func mountTmpfs(t *testing.T, dir string) {
	t.Helper()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
}
