package images

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// plainHTTP is the config that lets runletd reach the test registry over plain HTTP.
func plainHTTP(r *registry) string {
	return fmt.Sprintf("[images]\nplain_http_registries = [%q]\n", r.Host)
}

func TestCrictlPullsByTagThenListsInspectsAndRemoves(t *testing.T) {
	needRoot(t)
	reg := startRegistry(t, "")
	img := busybox(t, "")
	reg.push(t, "busybox:1.36", img)
	d := startDaemon(t, plainHTTP(reg))
	ref := reg.Host + "/busybox:1.36"
	id := configDigest(t, img)

	layersBefore, blobsBefore := storeLayers(t, d), storeBlobs(t, d) // the built-in pause
	out := d.MustCrictl(t, "pull", ref)
	if !strings.Contains(out, id) {
		t.Fatalf("crictl pull output does not name the image id %s:\n%s", id, out)
	}
	out = d.MustCrictl(t, "images")
	if !strings.Contains(out, reg.Host+"/busybox") || !strings.Contains(out, "1.36") {
		t.Fatalf("crictl images does not list the pulled image:\n%s", out)
	}
	var inspect struct {
		Status struct {
			ID       string   `json:"id"`
			RepoTags []string `json:"repoTags"`
		} `json:"status"`
		Info map[string]any `json:"info"`
	}
	out = d.MustCrictl(t, "inspecti", "-o", "json", ref)
	if err := json.Unmarshal([]byte(out), &inspect); err != nil {
		t.Fatalf("inspecti output is not JSON: %v\n%s", err, out)
	}
	if inspect.Status.ID != id || !slices.Contains(inspect.Status.RepoTags, ref) {
		t.Fatalf("inspecti status = %+v, want id %s tag %s", inspect.Status, id, ref)
	}
	if spec, ok := inspect.Info["imageSpec"].(map[string]any); !ok || spec["os"] != "linux" {
		t.Fatalf("inspecti info lacks the image config: %v", inspect.Info)
	}
	if len(storeLayers(t, d)) != len(layersBefore)+1 {
		t.Fatalf("layer dirs after pull = %v, want one more than %v", storeLayers(t, d), layersBefore)
	}

	d.MustCrictl(t, "rmi", ref)
	if out := d.MustCrictl(t, "images", "-q"); strings.Contains(out, id[len("sha256:"):]) {
		t.Fatalf("crictl images after rmi still lists %s:\n%s", id, out)
	}
	if dirs, blobs := storeLayers(t, d), storeBlobs(t, d); !slices.Equal(dirs, layersBefore) || !slices.Equal(blobs, blobsBefore) {
		t.Fatalf("rmi left layers %v and blobs %v; before the pull there were %v and %v", dirs, blobs, layersBefore, blobsBefore)
	}
}

func TestCrictlPullsByDigest(t *testing.T) {
	needRoot(t)
	reg := startRegistry(t, "")
	img := busybox(t, "")
	digest := reg.push(t, "busybox:1.36", img)
	d := startDaemon(t, plainHTTP(reg))
	ref := reg.Host + "/busybox@" + digest

	d.MustCrictl(t, "pull", ref)
	resp, err := d.Images.ImageStatus(ctxT(t), &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: ref}})
	if err != nil {
		t.Fatal(err)
	}
	got := resp.GetImage()
	if got.GetId() != configDigest(t, img) || !slices.Equal(got.RepoDigests, []string{ref}) || len(got.RepoTags) != 0 {
		t.Fatalf("status of a pull by digest = %+v; want repo_digests [%s] and no tags", got, ref)
	}
}
