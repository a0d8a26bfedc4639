package images

import (
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/integration/images/testimages"
)

func TestPullOfAnIndexPicksTheLinuxAmd64Image(t *testing.T) {
	needRoot(t)
	reg := startRegistry(t, "")
	amd64 := busybox(t, "")
	layer, err := testimages.Layer([]testimages.File{{Name: "arm64-only", Mode: 0o644, Data: []byte("not for this host\n")}})
	if err != nil {
		t.Fatal(err)
	}
	arm64, err := testimages.Image(testimages.Config("arm64", "", "sh"), layer)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := testimages.Index(map[string]v1.Image{"amd64": amd64, "arm64": arm64})
	if err != nil {
		t.Fatal(err)
	}
	digest := reg.pushIndex(t, "multi:1", idx)
	d := startDaemon(t, plainHTTP(reg))

	resp, err := d.Images.PullImage(ctxT(t), &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: reg.Host + "/multi:1"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.ImageRef != configDigest(t, amd64) {
		t.Fatalf("pulled %s, want the amd64 image %s", resp.ImageRef, configDigest(t, amd64))
	}
	st := imageStatus(t, d, reg.Host+"/multi:1")
	if !slices.Equal(st.RepoDigests, []string{reg.Host + "/multi@" + digest}) {
		t.Fatalf("repo digests %v, want the index digest %s", st.RepoDigests, digest)
	}

	// The same as a Docker manifest list of Docker v2 manifests.
	docker := func(img v1.Image) v1.Image {
		return mutate.ConfigMediaType(mutate.MediaType(img, types.DockerManifestSchema2), types.DockerConfigJSON)
	}
	list, err := testimages.Index(map[string]v1.Image{"amd64": docker(busybox(t, "33")), "arm64": docker(arm64)})
	if err != nil {
		t.Fatal(err)
	}
	reg.pushIndex(t, "multi:docker", mutate.IndexMediaType(list, types.DockerManifestList))
	resp, err = d.Images.PullImage(ctxT(t), &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: reg.Host + "/multi:docker"}})
	if err != nil {
		t.Fatal(err)
	}
	if st := imageStatus(t, d, resp.ImageRef); st.GetUid().GetValue() != 33 {
		t.Fatalf("the Docker list gave %s (uid %v), not the amd64 image", resp.ImageRef, st.GetUid())
	}
}

func TestPullOfADockerV2SchemaImage(t *testing.T) {
	needRoot(t)
	reg := startRegistry(t, "")
	img := mutate.ConfigMediaType(mutate.MediaType(busybox(t, "www-data"), types.DockerManifestSchema2), types.DockerConfigJSON)
	reg.push(t, "docker:1", img)
	d := startDaemon(t, plainHTTP(reg))

	d.MustCrictl(t, "pull", reg.Host+"/docker:1")
	st := imageStatus(t, d, reg.Host+"/docker:1")
	if st.Id != configDigest(t, img) || st.Username != "www-data" || st.Uid != nil {
		t.Fatalf("status = %+v, want id %s and username www-data", st, configDigest(t, img))
	}
}

func TestStatusReportsTheUidOfANumericUser(t *testing.T) {
	needRoot(t)
	reg := startRegistry(t, "")
	reg.push(t, "uid:1", busybox(t, "1002:1002"))
	d := startDaemon(t, plainHTTP(reg))

	d.MustCrictl(t, "pull", reg.Host+"/uid:1")
	st := imageStatus(t, d, reg.Host+"/uid:1")
	if st.GetUid().GetValue() != 1002 || st.Username != "" {
		t.Fatalf("uid %v username %q, want 1002 and none", st.GetUid(), st.Username)
	}
}

func imageStatus(t testing.TB, d *daemon, ref string) *runtime.Image {
	t.Helper()
	resp, err := d.Images.ImageStatus(ctxT(t), &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: ref}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Image == nil {
		t.Fatalf("no image %s", ref)
	}
	return resp.Image
}
