package images

import (
	"errors"
	"io"
	"slices"
	"testing"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestListAndStreamImagesAgreeAndFilterByName(t *testing.T) {
	needRoot(t)
	reg := startRegistry(t, "")
	reg.push(t, "busybox:1", busybox(t, ""))
	reg.push(t, "www:1", busybox(t, "www-data"))
	d := startDaemon(t, plainHTTP(reg))
	d.MustCrictl(t, "pull", reg.Host+"/busybox:1")
	d.MustCrictl(t, "pull", reg.Host+"/www:1")

	listed := ids(mustList(t, d))
	stream, err := d.Images.StreamImages(ctxT(t), &runtime.StreamImagesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var streamed []*runtime.Image
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		streamed = append(streamed, resp.Images...)
	}
	if len(listed) != 3 || !slices.Equal(listed, ids(streamed)) { // busybox, www, built-in pause
		t.Fatalf("ListImages %v, StreamImages %v", listed, ids(streamed))
	}
	resp, err := d.Images.ListImages(ctxT(t), &runtime.ListImagesRequest{Filter: &runtime.ImageFilter{Image: &runtime.ImageSpec{Image: reg.Host + "/www:1"}}})
	if err != nil || len(resp.Images) != 1 || resp.Images[0].Username != "www-data" {
		t.Fatalf("filtered list = %v, %v", resp.GetImages(), err)
	}
	resp, err = d.Images.ListImages(ctxT(t), &runtime.ListImagesRequest{Filter: &runtime.ImageFilter{Image: &runtime.ImageSpec{Image: reg.Host + "/none:1"}}})
	if err != nil || len(resp.Images) != 0 {
		t.Fatalf("a filter that matches nothing listed %v, %v", resp.GetImages(), err)
	}
}

func ids(imgs []*runtime.Image) []string {
	out := make([]string, len(imgs))
	for i, img := range imgs {
		out[i] = img.Id
	}
	return out
}
