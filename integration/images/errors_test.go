package images

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/status"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/integration/images/testimages"
)

// assertCode checks the gRPC code of err and that its message has every want.
func assertCode(t testing.TB, err error, code string, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", code)
	}
	if got := status.Code(err).String(); got != code {
		t.Fatalf("code %s, want %s: %v", got, code, err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("error %q does not mention %q", err, w)
		}
	}
}

// assertNothingNew checks that a failed pull left no image, layer, blob or scratch file.
func assertNothingNew(t testing.TB, d *daemon, images int, layers, blobs []string) {
	t.Helper()
	resp, err := d.Images.ListImages(ctxT(t), &runtime.ListImagesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Images) != images {
		t.Fatalf("%d images after a failed pull, want %d: %v", len(resp.Images), images, resp.Images)
	}
	if got := storeLayers(t, d); fmt.Sprint(got) != fmt.Sprint(layers) {
		t.Fatalf("layers %v after a failed pull, want %v", got, layers)
	}
	if got := storeBlobs(t, d); fmt.Sprint(got) != fmt.Sprint(blobs) {
		t.Fatalf("blobs %v after a failed pull, want %v", got, blobs)
	}
	if tmp := storeTmp(t, d); len(tmp) != 0 {
		t.Fatalf("scratch files left: %v", tmp)
	}
}

func TestPullErrorsCarryTheRightCodeAndChangeNothing(t *testing.T) {
	needRoot(t)
	reg := startRegistry(t, "")
	reg.push(t, "busybox:1.36", busybox(t, ""))
	dead := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	d := startDaemon(t, fmt.Sprintf("[images]\nplain_http_registries = [%q, %q]\n", reg.Host, dead))
	layers, blobs := storeLayers(t, d), storeBlobs(t, d)
	n := len(mustList(t, d))

	cases := []struct {
		name, ref, code string
		want            []string
	}{
		{"malformed reference", "Not A//Reference", "InvalidArgument", []string{"Not A//Reference"}},
		{"empty reference", "", "InvalidArgument", nil},
		{"bad digest", reg.Host + "/busybox@sha256:abc", "InvalidArgument", nil},
		{"missing tag", reg.Host + "/busybox:nope", "NotFound", []string{reg.Host}},
		{"missing repository", reg.Host + "/nothing-here:1", "NotFound", []string{reg.Host}},
		{"missing digest", reg.Host + "/busybox@sha256:" + strings.Repeat("0", 64), "NotFound", nil},
		{"unreachable registry", dead + "/busybox:1.36", "Unavailable", []string{dead}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := d.Images.PullImage(ctxT(t), &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: tc.ref}})
			assertCode(t, err, tc.code, tc.want...)
			assertNothingNew(t, d, n, layers, blobs)
		})
	}
}

func TestPlainHTTPOnlyForRegistriesTheConfigMarks(t *testing.T) {
	needRoot(t)
	reg := startRegistry(t, "")
	reg.push(t, "busybox:1.36", busybox(t, ""))
	d := startDaemon(t, "")

	_, err := d.Images.PullImage(ctxT(t), &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: reg.Host + "/busybox:1.36"}})
	assertCode(t, err, "FailedPrecondition", "plain HTTP", "plain_http_registries")
}

func TestCrictlShowsTheErrorsOfABadReferenceAndAMissingImage(t *testing.T) {
	needRoot(t)
	reg := startRegistry(t, "")
	d := startDaemon(t, plainHTTP(reg))

	out, err := d.Crictl(t, "pull", "BusyBox:1")
	if err == nil || !strings.Contains(out, "InvalidArgument") {
		t.Fatalf("crictl pull of a bad reference: err=%v\n%s", err, out)
	}
	out, err = d.Crictl(t, "pull", reg.Host+"/missing:1")
	if err == nil || !strings.Contains(out, "NotFound") {
		t.Fatalf("crictl pull of a missing image: err=%v\n%s", err, out)
	}
	out, err = d.Crictl(t, "inspecti", reg.Host+"/missing:1")
	if err == nil || !strings.Contains(out, "no such image") {
		t.Fatalf("crictl inspecti of a missing image: err=%v\n%s", err, out)
	}
}

func mustList(t testing.TB, d *daemon) []*runtime.Image {
	t.Helper()
	resp, err := d.Images.ListImages(ctxT(t), &runtime.ListImagesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Images
}

func TestAnOversizedConfigIsRefusedWithoutBeingRead(t *testing.T) {
	needRoot(t)
	reg := startRegistry(t, "")
	cfg := testimages.Config("amd64", "", "sh")
	cfg.Config.Labels = map[string]string{"padding": strings.Repeat("p", 9<<20)}
	img, err := testimages.Image(cfg)
	if err != nil {
		t.Fatal(err)
	}
	reg.push(t, "fat:1", img)
	d := startDaemon(t, plainHTTP(reg))
	n, layers, blobs := len(mustList(t, d)), storeLayers(t, d), storeBlobs(t, d)

	_, err = d.Images.PullImage(ctxT(t), &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: reg.Host + "/fat:1"}})
	assertCode(t, err, "FailedPrecondition", "config", "over the limit")
	assertNothingNew(t, d, n, layers, blobs)
	cd, _ := img.ConfigName()
	if got := layerGETs(t, reg, cd.String()); got != 0 {
		t.Fatalf("the oversized config was fetched %d times", got)
	}
}
