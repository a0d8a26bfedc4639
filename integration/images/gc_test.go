package images

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/integration/images/testimages"
)

func TestRemovingAnImageFreesOnlyTheLayersNoOtherImageUses(t *testing.T) {
	needRoot(t)
	reg := startRegistry(t, "")
	base := busybox(t, "")
	baseLayers, _ := base.Layers()
	top, err := testimages.Layer([]testimages.File{{Name: "etc/app.conf", Mode: 0o644, Data: []byte("app\n")}})
	if err != nil {
		t.Fatal(err)
	}
	app, err := testimages.Image(testimages.Config("amd64", "", "sh"), baseLayers[0], top)
	if err != nil {
		t.Fatal(err)
	}
	reg.push(t, "busybox:1", base)
	reg.push(t, "app:1", app)
	d := startDaemon(t, plainHTTP(reg))
	layers0, blobs0 := storeLayers(t, d), storeBlobs(t, d)

	d.MustCrictl(t, "pull", reg.Host+"/busybox:1")
	d.MustCrictl(t, "pull", reg.Host+"/app:1")
	if got := len(storeLayers(t, d)) - len(layers0); got != 2 {
		t.Fatalf("two images sharing their base layer unpacked %d layers, want 2", got)
	}
	d.MustCrictl(t, "rmi", reg.Host+"/busybox:1")
	if got := len(storeLayers(t, d)) - len(layers0); got != 2 {
		t.Fatalf("after removing busybox %d layers remain, want 2 (app uses both)", got)
	}
	d.MustCrictl(t, "rmi", reg.Host+"/app:1")
	if got, got2 := storeLayers(t, d), storeBlobs(t, d); !slices.Equal(got, layers0) || !slices.Equal(got2, blobs0) {
		t.Fatalf("after removing both: layers %v blobs %v, want %v %v", got, got2, layers0, blobs0)
	}
}

// layerGETs counts the registry's answers to GETs of a blob.
func layerGETs(t testing.TB, reg *registry, digest string) int {
	t.Helper()
	re := regexp.MustCompile(`"GET /v2/[^ ]*/blobs/` + regexp.QuoteMeta(digest) + ` HTTP`)
	return len(re.FindAllString(reg.proc.LogText(), -1))
}

func TestConcurrentPullsOfOneImageDownloadItOnce(t *testing.T) {
	needRoot(t)
	reg := startRegistry(t, "")
	img := busybox(t, "")
	reg.push(t, "busybox:1", img)
	layers, _ := img.Layers()
	ld, _ := layers[0].Digest()
	d := startDaemon(t, plainHTTP(reg))

	const pulls = 8
	var wg sync.WaitGroup
	errs := make([]error, pulls)
	ids := make([]string, pulls)
	for i := range pulls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := d.Images.PullImage(ctxT(t), &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: reg.Host + "/busybox:1"}})
			errs[i], ids[i] = err, resp.GetImageRef()
		}()
	}
	wg.Wait()
	for i := range pulls {
		if errs[i] != nil || ids[i] != configDigest(t, img) {
			t.Fatalf("pull %d: %s %v", i, ids[i], errs[i])
		}
	}
	if n := layerGETs(t, reg, ld.String()); n != 1 {
		t.Fatalf("%d concurrent pulls fetched the layer %d times, want 1", pulls, n)
	}
}

func TestInterruptedPullLeavesNothingHalfRegistered(t *testing.T) {
	needRoot(t)
	reg := startRegistry(t, "")
	big := make([]byte, 48<<20) // incompressible enough to take a moment
	for i := range big {
		big[i] = byte(i*7919 + i>>8*31)
	}
	layer, err := testimages.Layer([]testimages.File{{Name: "big", Mode: 0o644, Data: big}})
	if err != nil {
		t.Fatal(err)
	}
	img, err := testimages.Image(testimages.Config("amd64", "", "sh"), layer)
	if err != nil {
		t.Fatal(err)
	}
	reg.push(t, "big:1", img)
	d := startDaemon(t, plainHTTP(reg))
	n, layers0, blobs0 := len(mustList(t, d)), storeLayers(t, d), storeBlobs(t, d)

	// A client that gives up while the layer is being unpacked.
	ctx, cancel := context.WithCancel(ctxT(t))
	go func() {
		untilUnpackStarts(d)
		cancel()
	}()
	_, err = d.Images.PullImage(ctx, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: reg.Host + "/big:1"}})
	assertCode(t, err, "Canceled")
	waitFor(t, 10e9, "the cancelled pull to clean up", func() bool { return len(storeTmp(t, d)) == 0 })
	assertNothingNew(t, d, n, layers0, blobs0)

	// A daemon killed mid-pull: the next start removes the leftovers.
	go func() {
		untilUnpackStarts(d)
		d.Proc.Signal(syscall.SIGKILL)
	}()
	_, err = d.Images.PullImage(ctxT(t), &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: reg.Host + "/big:1"}})
	if err == nil {
		t.Fatal("pull succeeded although runletd was killed during it")
	}
	<-d.Proc.Done()
	os.Remove(d.Sock)
	d2 := startDaemonIn(t, d.Dir, plainHTTP(reg))
	assertNothingNew(t, d2, n, layers0, blobs0)
}

// untilUnpackStarts polls (tightly: the unpack lasts a fraction of a second)
// until a layer is being unpacked in the daemon's scratch directory.
func untilUnpackStarts(d *daemon) {
	dir := filepath.Join(d.Root, "images", "tmp")
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if entries, _ := os.ReadDir(dir); len(entries) > 0 {
			return
		}
	}
}

func TestImageFsInfoReportsTheRealBytesAndInodes(t *testing.T) {
	needRoot(t)
	reg := startRegistry(t, "")
	reg.push(t, "busybox:1", busybox(t, ""))
	d := startDaemon(t, plainHTTP(reg))
	d.MustCrictl(t, "pull", reg.Host+"/busybox:1")

	resp, err := d.Images.ImageFsInfo(ctxT(t), &runtime.ImageFsInfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	fs := resp.ImageFilesystems[0]
	wantBytes, wantInodes := du(t, filepath.Join(d.Root, "images", "layers"), filepath.Join(d.Root, "images", "content"))
	if fs.UsedBytes.Value != wantBytes || fs.InodesUsed.Value != wantInodes {
		t.Fatalf("imagefsinfo says %d bytes %d inodes; the disk holds %d bytes %d inodes",
			fs.UsedBytes.Value, fs.InodesUsed.Value, wantBytes, wantInodes)
	}
	if !strings.HasPrefix(fs.FsId.Mountpoint, d.Root) {
		t.Fatalf("mountpoint %s is not under the root %s", fs.FsId.Mountpoint, d.Root)
	}
	out := d.MustCrictl(t, "imagefsinfo")
	if !strings.Contains(out, "usedBytes") || !strings.Contains(out, "inodesUsed") {
		t.Fatalf("crictl imagefsinfo:\n%s", out)
	}
}

// du counts allocated bytes and distinct inodes of the files below the
// layer directories and of the content blobs (not the directories that hold them).
func du(t testing.TB, layersDir, contentDir string) (bytes, inodes uint64) {
	t.Helper()
	seen := map[uint64]bool{}
	count := func(p string) {
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			t.Fatal(err)
		}
		if !seen[st.Ino] {
			seen[st.Ino] = true
			bytes += uint64(st.Blocks) * 512
			inodes++
		}
	}
	for _, l := range dirNames(t, filepath.Join(layersDir, "sha256")) {
		filepath.Walk(filepath.Join(layersDir, "sha256", l), func(p string, _ os.FileInfo, err error) error {
			if err == nil {
				count(p)
			}
			return err
		})
	}
	for _, b := range dirNames(t, filepath.Join(contentDir, "sha256")) {
		count(filepath.Join(contentDir, "sha256", b))
	}
	return bytes, inodes
}
