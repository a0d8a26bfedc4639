package images

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// hostileRegistry is a small registry on loopback that serves hand-made
// manifests and lets each blob misbehave as a test wants.
type hostileRegistry struct {
	Host string
	stop chan struct{} // closed at cleanup: releases handlers that stall
	// endlessToken makes every client authenticate with a bearer token
	// whose endpoint (/token on this server) answers without end.
	endlessToken bool

	mu        sync.Mutex
	manifests map[string][]byte           // repo:tag -> manifest; guarded by mu
	blobs     map[string]http.HandlerFunc // digest -> handler; guarded by mu
	gets      map[string]int              // digest -> GETs served; guarded by mu
}

func startHostileRegistry(t *testing.T) *hostileRegistry {
	t.Helper()
	h := &hostileRegistry{stop: make(chan struct{}), manifests: map[string][]byte{},
		blobs: map[string]http.HandlerFunc{}, gets: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(func() {
		close(h.stop)
		srv.CloseClientConnections()
		srv.Close()
	})
	h.Host = strings.TrimPrefix(srv.URL, "http://")
	return h
}

func (h *hostileRegistry) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if h.endlessToken && path == "/token" {
		endless(h)(w, r)
		return
	}
	if h.endlessToken {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="hostile"`, h.Host))
		http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
		return
	}
	if path == "/v2/" || path == "/v2" {
		return
	}
	repo, rest, ok := strings.Cut(strings.TrimPrefix(path, "/v2/"), "/manifests/")
	if ok {
		h.mu.Lock()
		m, found := h.manifests[repo+":"+rest]
		h.mu.Unlock()
		if !found {
			http.Error(w, `{"errors":[{"code":"MANIFEST_UNKNOWN"}]}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		w.Header().Set("Docker-Content-Digest", digest(m))
		w.Header().Set("Content-Length", strconv.Itoa(len(m)))
		if r.Method != http.MethodHead {
			w.Write(m)
		}
		return
	}
	if i := strings.Index(path, "/blobs/"); i >= 0 {
		d := path[i+len("/blobs/"):]
		h.mu.Lock()
		handler := h.blobs[d]
		h.gets[d]++
		h.mu.Unlock()
		if handler == nil {
			http.Error(w, `{"errors":[{"code":"BLOB_UNKNOWN"}]}`, http.StatusNotFound)
			return
		}
		handler(w, r)
		return
	}
	http.NotFound(w, r)
}

// blobGETs is how often the blob d was asked for.
func (h *hostileRegistry) blobGETs(d string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.gets[d]
}

// descriptor is an OCI descriptor as the manifest declares it (size may lie).
type descriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
}

// image registers repo:tag as a manifest of config and layers, whose blobs
// are served by the given handlers.
func (h *hostileRegistry) image(t *testing.T, repoTag string, config descriptor, configBlob http.HandlerFunc, layers ...servedLayer) {
	t.Helper()
	descs := make([]descriptor, len(layers))
	h.mu.Lock()
	defer h.mu.Unlock()
	h.blobs[config.Digest] = configBlob
	for i, l := range layers {
		descs[i] = l.desc
		h.blobs[l.desc.Digest] = l.serve
	}
	m, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": config, "layers": descs})
	if err != nil {
		t.Fatal(err)
	}
	h.manifests[repoTag] = m
}

type servedLayer struct {
	desc  descriptor
	serve http.HandlerFunc
}

// gzipLayer is a real gzip layer with its diffID, served honestly.
type gzipLayer struct {
	blob   []byte
	diffID string
}

func (l gzipLayer) served() servedLayer {
	return servedLayer{desc: descriptor{"application/vnd.oci.image.layer.v1.tar+gzip", digest(l.blob), int64(len(l.blob))}, serve: bytesHandler(l.blob)}
}

// makeGzipLayer streams the tar that write produces through gzip and sha256,
// so a layer of hundreds of megabytes never sits in memory uncompressed.
func makeGzipLayer(t *testing.T, write func(tw *tar.Writer) error) gzipLayer {
	t.Helper()
	var blob bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&blob, gzip.BestCompression)
	h := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(zw, h))
	if err := write(tw); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return gzipLayer{blob: blob.Bytes(), diffID: "sha256:" + hex.EncodeToString(h.Sum(nil))}
}

// configFor is a valid image config for layers with these diffIDs.
func configFor(diffIDs ...string) []byte {
	b, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux",
		"config": map[string]any{"Cmd": []string{"sh"}}, "rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs}})
	return b
}

func configDesc(b []byte) descriptor {
	return descriptor{"application/vnd.oci.image.config.v1+json", digest(b), int64(len(b))}
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func bytesHandler(b []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
	}
}

// endless streams bytes with no Content-Length until the client goes away.
// A safety stop at 512 MiB keeps a broken runtime from taking the machine
// with it: such a runtime still shows a peak RSS far over the bound.
func endless(h *hostileRegistry) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for sent := 0; sent < 512<<20; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			select {
			case <-h.stop:
				return
			default:
			}
		}
	}
}

// stallAfter sends the first n bytes of b, then nothing, holding the
// connection open until the client gives up.
func stallAfter(h *hostileRegistry, b []byte, n int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b[:n])
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-h.stop:
		}
	}
}

// peakRSS is VmHWM, the highest resident set of process pid, in bytes.
func peakRSS(t testing.TB, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

func pullRef(t *testing.T, d *daemon, ref string) error {
	_, err := d.Images.PullImage(ctxT(t), &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: ref}})
	return err
}

// maxPeakRSS is what runletd may reach while hostile registries are cut
// off; its idle RSS is about 20 MiB.
const maxPeakRSS = 128 << 20

func TestHostileRegistryResponsesAreCutOffAndRunletdMemoryStaysBounded(t *testing.T) {
	needRoot(t)
	h, tokens := startHostileRegistry(t), startHostileRegistry(t)
	tokens.endlessToken = true
	d := startDaemon(t, fmt.Sprintf("[images]\nplain_http_registries = [%q, %q]\nimage_pull_progress_timeout = \"2s\"\nmax_layer_bytes = %d\n",
		h.Host, tokens.Host, 64<<20))
	layers0, blobs0, n := storeLayers(t, d), storeBlobs(t, d), len(mustList(t, d))
	good := makeGzipLayer(t, func(tw *tar.Writer) error {
		return writeFile(tw, "etc/motd", []byte("hello\n"))
	})
	cfg := configFor(good.diffID)
	configOf := func(repo string) string { return digest([]byte(repo)) } // the hand-made configs' digests
	bigCfg := bytes.Repeat([]byte("c"), 1<<20)

	cases := []struct {
		name, code string
		want       []string
		setup      func(repo string)
		never      func(repo string) string // a blob the pull must not even ask for
	}{
		{"config of unknown size that never ends", "FailedPrecondition", []string{"size -1"}, func(repo string) {
			h.image(t, repo+":1", descriptor{"application/vnd.oci.image.config.v1+json", digest([]byte(repo)), -1}, endless(h), good.served())
		}, configOf},
		{"config that goes on past its declared size", "DataLoss", nil, func(repo string) {
			h.image(t, repo+":1", descriptor{"application/vnd.oci.image.config.v1+json", digest([]byte(repo)), 4 << 20}, endless(h), good.served())
		}, nil},
		{"config over max_config_bytes", "FailedPrecondition", []string{"max_config_bytes"}, func(repo string) {
			h.image(t, repo+":1", descriptor{"application/vnd.oci.image.config.v1+json", digest([]byte(repo)), 1 << 30}, endless(h), good.served())
		}, configOf},
		{"config that stalls midway", "Unavailable", []string{"image_pull_progress_timeout"}, func(repo string) {
			h.image(t, repo+":1", configDesc(bigCfg), stallAfter(h, bigCfg, 64<<10), good.served())
		}, nil},
		{"layer of unknown size", "FailedPrecondition", []string{"size -1"}, func(repo string) {
			l := good.served()
			l.desc.Size = -1
			h.image(t, repo+":1", configDesc(cfg), bytesHandler(cfg), l)
		}, func(string) string { return digest(good.blob) }},
		{"layer over max_layer_bytes", "FailedPrecondition", []string{"max_layer_bytes"}, func(repo string) {
			l := good.served()
			l.desc.Size = 1 << 30
			h.image(t, repo+":1", configDesc(cfg), bytesHandler(cfg), l)
		}, func(string) string { return digest(good.blob) }},
		{"config whose error body never ends", "Unavailable", []string{"limit"}, func(repo string) {
			h.image(t, repo+":1", configDesc(cfg), func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusBadRequest)
				endless(h)(w, r)
			}, good.served())
		}, nil},
		{"layer that stalls midway", "Unavailable", []string{"image_pull_progress_timeout"}, func(repo string) {
			l := good.served()
			l.serve = stallAfter(h, good.blob, len(good.blob)/2)
			h.image(t, repo+":1", configDesc(cfg), bytesHandler(cfg), l)
		}, nil},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			repo := fmt.Sprintf("hostile%d", i)
			tc.setup(repo)
			never := ""
			if tc.never != nil {
				never = tc.never(repo)
				h.mu.Lock()
				h.gets[never] = 0
				h.mu.Unlock()
			}
			err := pullRef(t, d, h.Host+"/"+repo+":1")
			t.Logf("%s: %v", tc.name, err)
			assertCode(t, err, tc.code, tc.want...)
			if never != "" && h.blobGETs(never) != 0 {
				t.Fatalf("runletd fetched %s although its descriptor refused it", never)
			}
			assertNothingNew(t, d, n, layers0, blobs0)
		})
	}
	t.Run("token endpoint that never ends", func(t *testing.T) {
		err := pullRef(t, d, tokens.Host+"/any:1")
		t.Logf("endless token: %v", err)
		assertCode(t, err, "Unavailable", "limit")
		assertNothingNew(t, d, n, layers0, blobs0)
	})
	peak := peakRSS(t, d.Proc.Pid())
	t.Logf("runletd peak RSS (VmHWM) after every hostile response: %.1f MiB", float64(peak)/(1<<20))
	if peak > maxPeakRSS {
		t.Fatalf("runletd's peak RSS reached %d MiB, over the %d MiB bound", peak>>20, maxPeakRSS>>20)
	}
	// The daemon still serves, and an honest image of the same registry pulls.
	h.image(t, "honest:1", configDesc(cfg), bytesHandler(cfg), good.served())
	if err := pullRef(t, d, h.Host+"/honest:1"); err != nil {
		t.Fatalf("an honest pull after the hostile ones: %v", err)
	}
}

// writeFile adds a regular file to tw.
func writeFile(tw *tar.Writer, name string, data []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data))}); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

// withOpenFileLimit makes d run under a wrapper that lowers its open file
// limit (soft and hard) to n, and restarts it.
func withOpenFileLimit(t *testing.T, d *daemon, n int) {
	t.Helper()
	wrapper := filepath.Join(d.Dir, "runletd-nofile")
	script := fmt.Sprintf("#!/bin/sh\nulimit -n %d || exit 1\nexec %s \"$@\"\n", n, runletdBinary(t))
	if err := os.WriteFile(wrapper, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	d.Stop(t)
	d.Binary = wrapper
	d.Restart(t)
	limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", d.Proc.Pid()))
	if err != nil || !regexp.MustCompile(fmt.Sprintf(`Max open files\s+%d\s+%d`, n, n)).Match(limits) {
		t.Fatalf("runletd does not run with %d open files at most: %v\n%s", n, err, limits)
	}
}

func TestHostileLayersEndInAClearErrorOrABoundedImport(t *testing.T) {
	needRoot(t)
	h := startHostileRegistry(t)
	d := startDaemon(t, fmt.Sprintf("[images]\nplain_http_registries = [%q]\nmax_layer_unpacked_bytes = %d\n", h.Host, 256<<20))
	withOpenFileLimit(t, d, 1024)
	layers0, blobs0, n := storeLayers(t, d), storeBlobs(t, d), len(mustList(t, d))
	serve := func(repo string, l gzipLayer) string {
		cfg := configFor(l.diffID)
		h.image(t, repo+":1", configDesc(cfg), bytesHandler(cfg), l.served())
		return h.Host + "/" + repo + ":1"
	}

	t.Run("gzip bomb: one file of 512 MiB of zeros", func(t *testing.T) {
		bomb := makeGzipLayer(t, func(tw *tar.Writer) error {
			if err := tw.WriteHeader(&tar.Header{Name: "zeros", Typeflag: tar.TypeReg, Mode: 0o644, Size: 512 << 20}); err != nil {
				return err
			}
			_, err := io.CopyN(tw, zeroReader{}, 512<<20)
			return err
		})
		t.Logf("the bomb is %d KiB compressed", len(bomb.blob)>>10)
		err := pullRef(t, d, serve("bomb", bomb))
		t.Logf("gzip bomb: %v", err)
		assertCode(t, err, "FailedPrecondition", "max_layer_unpacked_bytes")
		assertNothingNew(t, d, n, layers0, blobs0)
	})

	t.Run("gzip bomb: 512 MiB of zeros after the end of the tar", func(t *testing.T) {
		var stream bytes.Buffer
		tw := tar.NewWriter(&stream)
		writeFile(tw, "etc/motd", []byte("hi\n"))
		tw.Close()
		bomb := makeGzipStream(t, io.MultiReader(&stream, io.LimitReader(zeroReader{}, 512<<20)))
		err := pullRef(t, d, serve("trailer", bomb))
		t.Logf("trailing bomb: %v", err)
		assertCode(t, err, "FailedPrecondition", "max_layer_unpacked_bytes")
		assertNothingNew(t, d, n, layers0, blobs0)
	})

	t.Run("200k directories under a 1024 open files limit", func(t *testing.T) {
		const dirs = 200_000
		many := makeGzipLayer(t, func(tw *tar.Writer) error {
			// Each directory is made by the opaque marker inside it, which
			// the unpacker applies through the directory's descriptor.
			for i := range dirs {
				if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("d%06d/.wh..wh..opq", i), Typeflag: tar.TypeReg, Mode: 0o644}); err != nil {
					return err
				}
			}
			return nil
		})
		ref := serve("many", many)
		// 400k inodes to make and remove: generous deadlines, for a loaded machine.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		if _, err := d.Images.PullImage(ctx, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: ref}}); err != nil {
			t.Fatalf("a layer of %d directories: %v", dirs, err)
		}
		if _, err := d.Runtime.Version(ctx, &runtime.VersionRequest{}); err != nil {
			t.Fatalf("runletd does not serve after the import: %v", err)
		}
		added := slices.DeleteFunc(storeLayers(t, d), func(l string) bool { return slices.Contains(layers0, l) })
		if len(added) != 1 {
			t.Fatalf("the pull added layers %v, want one", added)
		}
		if got := dirNames(t, filepath.Join(d.Root, "images", "layers", "sha256", added[0])); len(got) != dirs {
			t.Fatalf("the layer holds %d directories, want %d", len(got), dirs)
		}
		if _, err := d.Images.RemoveImage(ctx, &runtime.RemoveImageRequest{Image: &runtime.ImageSpec{Image: ref}}); err != nil {
			t.Fatal(err)
		}
		assertNothingNew(t, d, n, layers0, blobs0)
	})
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// makeGzipStream is a layer whose uncompressed stream is r, as it is.
func makeGzipStream(t *testing.T, r io.Reader) gzipLayer {
	t.Helper()
	var blob bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&blob, gzip.BestCompression)
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(zw, h), r); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return gzipLayer{blob: blob.Bytes(), diffID: "sha256:" + hex.EncodeToString(h.Sum(nil))}
}
