package images

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// designMirrors is the [images] section of ARCHITECTURE.md §4, pointed at
// the test registry instead of 127.0.0.1:5000.
func designMirrors(r *registry) string {
	return fmt.Sprintf("[images]\npause_image = \"\"\n[images.mirrors.\"registry.k8s.io\"]\nendpoints = [\"http://%s\"]\n", r.Host)
}

func TestCrictlPullOfRegistryK8sIoPauseIsServedByTheMirror(t *testing.T) {
	needRoot(t)
	reg := startRegistry(t, "")
	img := pauseImage(t)
	digest := reg.push(t, "pause:3.9", img)
	d := startDaemon(t, designMirrors(reg))

	d.MustCrictl(t, "pull", "registry.k8s.io/pause:3.9")
	resp, err := d.Images.ImageStatus(ctxT(t), &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: "registry.k8s.io/pause:3.9"}})
	if err != nil {
		t.Fatal(err)
	}
	got := resp.GetImage()
	if got.GetId() != configDigest(t, img) {
		t.Fatalf("id = %q, want %s", got.GetId(), configDigest(t, img))
	}
	// The image keeps the name it was asked by, not the mirror's.
	if !slices.Equal(got.RepoTags, []string{"registry.k8s.io/pause:3.9"}) ||
		!slices.Equal(got.RepoDigests, []string{"registry.k8s.io/pause@" + digest}) {
		t.Fatalf("tags %v digests %v", got.RepoTags, got.RepoDigests)
	}
	if got.GetUid().GetValue() != 65535 {
		t.Fatalf("uid = %v, want 65535 from the image config user 65535:65535", got.GetUid())
	}
	// By digest through the mirror as well.
	d.MustCrictl(t, "pull", "registry.k8s.io/pause@"+digest)
}

func TestMirrorsAreTriedInOrderThenTheHostItself(t *testing.T) {
	needRoot(t)
	reg := startRegistry(t, "")
	reg.push(t, "busybox:1.36", busybox(t, ""))
	dead := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg := fmt.Sprintf("[images]\nplain_http_registries = [%q]\n[images.mirrors.%q]\nendpoints = [\"http://%s\"]\n", reg.Host, reg.Host, dead)
	d := startDaemon(t, cfg)

	// The mirror is down; the host itself serves the pull.
	d.MustCrictl(t, "pull", reg.Host+"/busybox:1.36")
	if !strings.Contains(d.Proc.LogText(), `"from":"`+reg.Host+`"`) {
		t.Fatalf("the pull did not come from the host %s after the dead mirror", reg.Host)
	}
}

func TestMirrorWithoutFallbackNeverContactsTheHost(t *testing.T) {
	needRoot(t)
	reg := startRegistry(t, "")
	reg.push(t, "busybox:1.36", busybox(t, ""))
	dead := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg := fmt.Sprintf("[images]\nplain_http_registries = [%q]\n[images.mirrors.%q]\nendpoints = [\"http://%s\"]\nfallback_to_host = false\n", reg.Host, reg.Host, dead)
	d := startDaemon(t, cfg)

	_, err := d.Images.PullImage(ctxT(t), &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: reg.Host + "/busybox:1.36"}})
	assertCode(t, err, "Unavailable", dead)
	if strings.Contains(err.Error(), "registry "+reg.Host) {
		t.Fatalf("the host itself was tried although fallback_to_host = false: %v", err)
	}
}

func TestMirrorEndpointsAreTriedInOrderForAnyHost(t *testing.T) {
	needRoot(t)
	reg := startRegistry(t, "")
	img := busybox(t, "")
	reg.push(t, "library/busybox:1.36", img)
	dead := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	// docker.io is never contacted: its mirrors are a dead endpoint, then the
	// test registry, and fallback_to_host is off.
	cfg := fmt.Sprintf("[images.mirrors.\"docker.io\"]\nendpoints = [\"http://%s\", \"http://%s\"]\nfallback_to_host = false\n", dead, reg.Host)
	d := startDaemon(t, cfg)

	d.MustCrictl(t, "pull", "busybox:1.36")
	st := imageStatus(t, d, "docker.io/library/busybox:1.36")
	if st.Id != configDigest(t, img) {
		t.Fatalf("busybox:1.36 is %s", st.Id)
	}
	if log := d.Proc.LogText(); !strings.Contains(log, `"from":"`+reg.Host+`"`) {
		t.Fatalf("the pull did not come from the second endpoint %s:\n%s", reg.Host, log)
	}
}
