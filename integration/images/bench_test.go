package images

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/integration/images/testimages"
)

// benchSetup is a registry with the busybox image and a daemon that reaches it.
func benchSetup(b *testing.B) (*registry, *daemon, string) {
	b.Helper()
	needRoot(b)
	reg := startRegistry(b, "")
	img, err := testimages.BusyboxImage("")
	if err != nil {
		b.Fatal(err)
	}
	reg.push(b, "busybox:bench", img)
	d := startDaemon(b, plainHTTP(reg))
	return reg, d, reg.Host + "/busybox:bench"
}

func pull(b *testing.B, d *daemon, ref string) {
	b.Helper()
	if _, err := d.Images.PullImage(ctxT(b), &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: ref}}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPullCold pulls the busybox image (1.2 MB compressed) into an
// empty store: manifest, config, layer download and unpack, through the CRI.
func BenchmarkPullCold(b *testing.B) {
	_, d, ref := benchSetup(b)
	b.ResetTimer()
	for b.Loop() {
		pull(b, d, ref)
		b.StopTimer()
		if _, err := d.Images.RemoveImage(ctxT(b), &runtime.RemoveImageRequest{Image: &runtime.ImageSpec{Image: ref}}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkPullWarm pulls an image the store already has: the registry is
// asked for the manifest, nothing is downloaded.
func BenchmarkPullWarm(b *testing.B) {
	_, d, ref := benchSetup(b)
	pull(b, d, ref)
	b.ResetTimer()
	for b.Loop() {
		pull(b, d, ref)
	}
}

// BenchmarkListImages100 lists a store of 100 images (one layer shared by all).
func BenchmarkListImages100(b *testing.B) {
	reg, d, _ := benchSetup(b)
	for i := range 99 {
		img, err := testimages.BusyboxImage(strconv.Itoa(1000 + i)) // distinct configs, shared layer
		if err != nil {
			b.Fatal(err)
		}
		ref := fmt.Sprintf("busybox:u%d", i)
		reg.push(b, ref, img)
		pull(b, d, reg.Host+"/"+ref)
	}
	b.ResetTimer()
	for b.Loop() {
		resp, err := d.Images.ListImages(ctxT(b), &runtime.ListImagesRequest{})
		if err != nil || len(resp.Images) != 100 {
			b.Fatalf("%d images, %v", len(resp.Images), err)
		}
	}
}

// BenchmarkImageStatus asks for one image by tag.
func BenchmarkImageStatus(b *testing.B) {
	_, d, ref := benchSetup(b)
	pull(b, d, ref)
	b.ResetTimer()
	for b.Loop() {
		resp, err := d.Images.ImageStatus(ctxT(b), &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: ref}})
		if err != nil || resp.Image == nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIdleRSS reports runletd's resident memory after a pull, idle
// (metric rss-MiB; the target is at most 20 MiB).
func BenchmarkIdleRSS(b *testing.B) {
	_, d, ref := benchSetup(b)
	pull(b, d, ref)
	for b.Loop() {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(time.Second)
	b.ReportMetric(rssMiB(b, d.Proc.Pid()), "rss-MiB")
}

func rssMiB(b *testing.B, pid int) float64 {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	b.Fatal("no VmRSS")
	return 0
}
