package images

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/daemon/internal/config"
)

// bigManifestServer serves an endless-looking manifest, with or without a
// Content-Length, and counts the bytes it managed to send.
func bigManifestServer(t *testing.T, withLength bool) (*httptest.Server, *int64) {
	t.Helper()
	var sent int64
	body := strings.Repeat("x", 4<<20+1<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if withLength {
			w.Header().Set("Content-Length", "5242880")
		}
		n, _ := io.WriteString(w, body)
		sent += int64(n)
	}))
	t.Cleanup(srv.Close)
	return srv, &sent
}

func TestManifestBodiesAreReadWithABound(t *testing.T) {
	for _, withLength := range []bool{true, false} {
		srv, _ := bigManifestServer(t, withLength)
		host := strings.TrimPrefix(srv.URL, "http://")
		g := newGuardTransport(map[string]bool{host: true}, config.ImageLimits{})
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v2/big/manifests/latest", nil)
		resp, err := g.RoundTrip(req)
		if err == nil {
			var n int64
			n, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if n > 4<<20 {
				t.Fatalf("read %d bytes of a manifest, more than the 4 MiB bound", n)
			}
		}
		if !errdefs.IsFailedPrecondition(err) || !strings.Contains(err.Error(), "over the limit") {
			t.Fatalf("content-length=%v: err = %v, want FailedPrecondition over the limit", withLength, err)
		}
	}
}

func TestBlobsAreNotBoundedLikeManifests(t *testing.T) {
	srv, _ := bigManifestServer(t, false)
	host := strings.TrimPrefix(srv.URL, "http://")
	g := newGuardTransport(map[string]bool{host: true}, config.ImageLimits{})
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v2/big/blobs/sha256:x", nil)
	resp, err := g.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if n, err := io.Copy(io.Discard, resp.Body); err != nil || n <= 4<<20 {
		t.Fatalf("blob read %d bytes, %v", n, err)
	}
}

func TestPlainHTTPIsRefusedToHostsNotMarked(t *testing.T) {
	srv, sent := bigManifestServer(t, true)
	g := newGuardTransport(map[string]bool{"127.0.0.1:1": true}, config.ImageLimits{})
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v2/", nil)
	_, err := g.RoundTrip(req)
	if err == nil || !strings.Contains(err.Error(), "plain_http_registries") {
		t.Fatalf("err = %v", err)
	}
	if *sent != 0 {
		t.Fatal("the request reached the server")
	}
}

// stallingServer sends headers and a first chunk, or only headers when
// before is set, then nothing until the test ends.
func stallingServer(t *testing.T, before bool) *httptest.Server {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if before {
			select {
			case <-r.Context().Done():
			case <-stop:
			}
			return
		}
		w.Write([]byte("first chunk"))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	t.Cleanup(func() { close(stop); srv.Close() })
	return srv
}

func TestAResponseThatBringsNoDataForTheProgressTimeoutIsCutOff(t *testing.T) {
	for _, before := range []bool{true, false} {
		srv := stallingServer(t, before)
		host := strings.TrimPrefix(srv.URL, "http://")
		g := newGuardTransport(map[string]bool{host: true}, config.ImageLimits{ImagePullProgressTimeout: config.Duration(200e6)})
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v2/x/blobs/sha256:x", nil)
		resp, err := g.RoundTrip(req)
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		if !errdefs.IsUnavailable(err) || !strings.Contains(err.Error(), "image_pull_progress_timeout") {
			t.Fatalf("stall before headers=%v: err = %v, want Unavailable naming the key", before, err)
		}
	}
}
