package images

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/daemon/failpoint"
	"github.com/runlet/runlet/integration/internal/daemontest"
)

// TestPullKilledAtEachStepSucceedsAfterRestartAndRmiLeavesNothing kills
// runletd (a failpoints build) at each named step of PullImage, starts the
// normal build again, and retries the same pull as kubelet would: it must
// succeed with a usable image, and its removal must leave the store exactly
// as it was before the first attempt (files under root/images and records).
func TestPullKilledAtEachStepSucceedsAfterRestartAndRmiLeavesNothing(t *testing.T) {
	needRoot(t)
	reg := startRegistry(t, "")
	img := busybox(t, "")
	reg.push(t, "busybox:1", img)
	ref := reg.Host + "/busybox:1"
	for _, step := range []string{failpoint.ImageBlobs, failpoint.ImageUnpacked} {
		t.Run(strings.ReplaceAll(step, "/", "-"), func(t *testing.T) {
			d := startDaemon(t, plainHTTP(reg))
			d.Stop(t)
			before := storeState(t, d)

			left := crashPullAt(t, d, ref, step, before)
			t.Logf("runletd killed at %s left %v", step, left)

			d.Binary, d.Env = "", nil
			d.Restart(t)
			if got := storeState(t, d).files; !slices.Equal(got, before.files) {
				t.Fatalf("after the restart the store holds %v; before the pull it held %v", got, before.files)
			}
			if imgs := mustList(t, d); len(imgs) != 1 {
				t.Fatalf("a pull killed at %s is served after the restart: %v", step, imgs)
			}

			resp, err := d.Images.PullImage(ctxT(t), &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: ref}})
			if err != nil || resp.ImageRef != configDigest(t, img) {
				t.Fatalf("retried pull after a crash at %s: %v %v", step, resp, err)
			}
			assertUsable(t, d, before.layers)

			d.MustCrictl(t, "rmi", ref)
			d.Stop(t)
			if after := storeState(t, d); after.String() != before.String() {
				t.Fatalf("after rmi the store differs from before the pull:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// crashPullAt runs ref's pull on a failpoints runletd armed at step, checks
// that the daemon died there, and returns what it left in the store beside
// what it held before.
func crashPullAt(t *testing.T, d *daemon, ref, step string, before store) []string {
	t.Helper()
	d.Binary, d.Env = daemontest.RunletdWithFailpoints(t), []string{failpoint.Env + "=" + step}
	d.Restart(t)
	_, err := d.Images.PullImage(ctxT(t), &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: ref}})
	if err == nil {
		t.Fatalf("pull succeeded although runletd was armed to die at %s", step)
	}
	<-d.Proc.Done()
	if !strings.Contains(d.Proc.LogText(), "failpoint "+step) {
		t.Fatalf("runletd did not die at %s: %v\n%s", step, err, d.Proc.LogText())
	}
	var left []string
	after := storeState(t, d)
	for _, f := range after.files {
		if !slices.Contains(before.files, f) && strings.Count(f, "/") < 3 {
			left = append(left, f)
		}
	}
	for _, r := range after.records {
		if !slices.Contains(before.records, r) {
			left = append(left, "record "+r)
		}
	}
	if len(left) == 0 {
		t.Fatalf("runletd killed at %s left nothing: the step is not inside the pull", step)
	}
	return left
}

// assertUsable runs the busybox binary of the layer the pull added.
func assertUsable(t *testing.T, d *daemon, layersBefore []string) {
	t.Helper()
	var added []string
	for _, l := range storeLayers(t, d) {
		if !slices.Contains(layersBefore, l) {
			added = append(added, l)
		}
	}
	if len(added) != 1 {
		t.Fatalf("the pull added layers %v, want one", added)
	}
	bin := filepath.Join(d.Root, "images", "layers", "sha256", added[0], "bin", "busybox")
	out, err := exec.Command(bin, "echo", "usable").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "usable" {
		t.Fatalf("the pulled image's busybox does not run: %v %q", err, out)
	}
}

// store is what the image store holds: every path under root/images (with
// its size for files) and the keys of the image service's records.
type store struct {
	files, records, layers []string
}

func (s store) String() string {
	return fmt.Sprintf("files %v records %v", s.files, s.records)
}

// storeState reads the store; records only while runletd is stopped (the
// daemon holds the database's lock while it runs).
func storeState(t testing.TB, d *daemon) store {
	t.Helper()
	var s store
	root := filepath.Join(d.Root, "images")
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if e.Type().IsRegular() {
			info, err := e.Info()
			if err != nil {
				return err
			}
			rel = fmt.Sprintf("%s(%d)", rel, info.Size())
		}
		s.files = append(s.files, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.layers = storeLayers(t, d)
	if d.Proc != nil && !d.Proc.Exited() {
		return s
	}
	s.records = storeRecords(t, filepath.Join(d.Root, "runlet.db"))
	return s
}

// storeRecords lists the keys of the image service's buckets.
func storeRecords(t testing.TB, path string) []string {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var keys []string
	err = db.View(func(tx *bolt.Tx) error {
		for _, bucket := range []string{"images", "layers", "layer-holders"} {
			b := tx.Bucket([]byte(bucket))
			if b == nil {
				continue
			}
			if err := b.ForEach(func(k, _ []byte) error {
				keys = append(keys, bucket+"/"+string(k))
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestAnImageIncompleteOnDiskAtStartIsNeverServedAndIsPulledAgain loses a
// part of a pulled image while runletd is stopped (what a power loss does
// to a store whose data was not durable before its records: a layer
// directory or a blob gone while the records remain). The next start must
// not serve the image, and the next pull must fetch it again.
func TestAnImageIncompleteOnDiskAtStartIsNeverServedAndIsPulledAgain(t *testing.T) {
	needRoot(t)
	reg := startRegistry(t, "")
	img := busybox(t, "")
	reg.push(t, "busybox:1", img)
	layers, _ := img.Layers()
	layerDigest, _ := layers[0].Digest()
	ref := reg.Host + "/busybox:1"
	id := configDigest(t, img)

	for _, lose := range []string{"layer directory", "config blob"} {
		t.Run(strings.ReplaceAll(lose, " ", "-"), func(t *testing.T) {
			d := startDaemon(t, plainHTTP(reg))
			layers0 := storeLayers(t, d)
			d.MustCrictl(t, "pull", ref)
			gets := layerGETs(t, reg, layerDigest.String())
			d.Stop(t)
			switch lose {
			case "layer directory":
				for _, l := range storeLayers(t, d) {
					if !slices.Contains(layers0, l) {
						os.RemoveAll(filepath.Join(d.Root, "images", "layers", "sha256", l))
					}
				}
			case "config blob":
				os.Remove(filepath.Join(d.Root, "images", "content", "sha256", strings.TrimPrefix(id, "sha256:")))
			}

			d.Restart(t)
			st, err := d.Images.ImageStatus(ctxT(t), &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: ref}})
			if err != nil || st.Image != nil {
				t.Fatalf("an image whose %s is gone is served after the restart: %v %v", lose, st.GetImage(), err)
			}
			if !strings.Contains(d.Proc.LogText(), "image incomplete on disk") {
				t.Fatalf("runletd did not report the incomplete image:\n%s", d.Proc.LogText())
			}
			resp, err := d.Images.PullImage(ctxT(t), &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: ref}})
			if err != nil || resp.ImageRef != id {
				t.Fatalf("pull after the restart: %v %v", resp, err)
			}
			if lose == "layer directory" && layerGETs(t, reg, layerDigest.String()) != gets+1 {
				t.Fatal("the pull did not fetch the lost layer again")
			}
			assertUsable(t, d, layers0)
		})
	}
}
