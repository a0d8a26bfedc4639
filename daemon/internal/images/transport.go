package images

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/daemon/internal/config"
)

// errPlainHTTP is returned for a plain-HTTP request to a host the config does not mark.
var errPlainHTTP = errors.New("plain HTTP is not allowed")

// guardTransport is the base transport under go-containerregistry's auth and
// retry layers. It refuses plain HTTP to hosts the configuration does not
// allow, bounds every body but a blob's content (which its descriptor's size
// bounds), and cuts off every response that brings no data for the
// progress timeout (headers and body alike).
type guardTransport struct {
	base      http.RoundTripper
	plainHTTP map[string]bool // host:port that may be reached over http; read-only
	limits    config.ImageLimits
}

func newGuardTransport(plainHTTP map[string]bool, limits config.ImageLimits) *guardTransport {
	limits = limits.WithDefaults()
	base := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	return &guardTransport{base: base, plainHTTP: plainHTTP, limits: limits}
}

func (g *guardTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !g.plainHTTP[req.URL.Host] {
		return nil, fmt.Errorf("%w to %s: list it in images.plain_http_registries or use an http:// mirror endpoint", errPlainHTTP, req.URL.Host)
	}
	req, watch := watchProgress(req, time.Duration(g.limits.ImagePullProgressTimeout))
	resp, err := g.base.RoundTrip(req)
	if err != nil {
		watch.stop()
		return nil, watch.explain(err)
	}
	resp.Body = watch.body(resp.Body)
	if isBlobContent(req, resp) {
		return resp, nil // bounded by the size its descriptor declares
	}
	// Everything else (manifests, indexes, tokens, pings, error bodies) is
	// read into memory by go-containerregistry: bounded here.
	kind, limit := "registry response", g.limits.MaxManifestBytes
	if strings.Contains(req.URL.Path, "/manifests/") {
		kind = "manifest"
	}
	if resp.ContentLength > limit {
		resp.Body.Close()
		return nil, tooLarge(kind, req.URL.String(), resp.ContentLength, limit)
	}
	resp.Body = &limitedBody{rc: resp.Body, left: limit, limit: limit, kind: kind, what: req.URL.String()}
	return resp, nil
}

// isBlobContent tells a successful blob download, the one body streamed to disk.
func isBlobContent(req *http.Request, resp *http.Response) bool {
	return strings.Contains(req.URL.Path, "/blobs/") && resp.StatusCode >= 200 && resp.StatusCode < 300
}

func tooLarge(kind, what string, size, limit int64) error {
	return fmt.Errorf("%s %s is %d bytes, over the limit of %d: %w", kind, what, size, limit, errdefs.ErrFailedPrecondition)
}

// limitedBody fails a read that goes past the limit instead of truncating silently.
type limitedBody struct {
	rc         io.ReadCloser
	left       int64 // bytes still allowed; owned by the single reader
	limit      int64
	kind, what string
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One byte more than allowed proves the body is too long.
		var one [1]byte
		if n, _ := l.rc.Read(one[:]); n > 0 {
			return 0, tooLarge(l.kind, l.what, l.limit+1, l.limit)
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.rc.Read(p)
	l.left -= int64(n)
	return n, err
}

func (l *limitedBody) Close() error { return l.rc.Close() }
