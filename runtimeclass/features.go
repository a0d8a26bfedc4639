package runtimeclass

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go/features"
	"google.golang.org/protobuf/proto"

	"github.com/runlet/runlet/proto/types"
)

// infoTimeout bounds a shim's -info.
const infoTimeout = 10 * time.Second

// Info asks the handler's shim for its RuntimeInfo (`shim -info`, the
// runtime options on stdin). A shim that predates -info (containerd 1.6's)
// fails; callers report its features as unknown.
func (h *Handler) Info(ctx context.Context) (*types.RuntimeInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, infoTimeout)
	defer cancel()
	var stdin []byte
	if h.Options != nil {
		var err error
		if stdin, err = proto.Marshal(h.Options); err != nil {
			return nil, err
		}
	}
	cmd := exec.CommandContext(ctx, h.Shim, "-info")
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s -info: %w: %s", h.Shim, err, bytes.TrimSpace(stderr.Bytes()))
	}
	var info types.RuntimeInfo
	if err := proto.Unmarshal(stdout.Bytes(), &info); err != nil {
		return nil, fmt.Errorf("%s -info: not a RuntimeInfo: %w", h.Shim, err)
	}
	return &info, nil
}

// stdioSchemesAnnotation lists, in a runlet shim's RuntimeInfo, the stdio
// schemes it takes besides FIFOs.
const stdioSchemesAnnotation = "io.runlet.shim/stdio-schemes"

// WritesCRILog reports whether the shim writes CRI logs itself (crilog://
// stdio). Any other shim gets FIFOs.
func (h *Handler) WritesCRILog(ctx context.Context) bool {
	h.learn(ctx)
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.crilog
}

// Features are what a handler's runtime supports, as the CRI's Status
// reports them per RuntimeClass (runletd adds the host's part: whether its
// filesystems take id-mapped mounts).
type Features struct {
	RecursiveReadOnlyMounts bool
	UserNamespaces          bool
}

// Features reports the handler's runtime features from the OCI features
// its shim's -info carries (none when the shim or runtime reports none).
func (h *Handler) Features(ctx context.Context) Features {
	h.learn(ctx)
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.features
}

// learn asks the shim's -info once and keeps what the daemon uses. A shim
// that fails it has no features (containerd 1.6's has no -info); an ask
// cut short by the caller's context is retried at the next call instead
// of hiding the features for good.
func (h *Handler) learn(ctx context.Context) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.learned {
		return
	}
	info, err := h.Info(ctx)
	if err != nil {
		h.learned = ctx.Err() == nil
		return
	}
	for _, s := range strings.Split(info.GetAnnotations()[stdioSchemesAnnotation], ",") {
		h.crilog = h.crilog || s == "crilog"
	}
	h.features = ociFeatures(info.GetFeatures().GetValue())
	h.learned = true
}

// ociFeatures reads runtime-spec features JSON: "rro" among the mount
// options, and user namespaces. The runtime's own id-mapped mounts
// (linux.mountExtensions.idmap) are not needed: runletd makes a user
// namespace pod's id-mapped mounts itself (daemon/internal/idmap), so a
// runtime that can join a user namespace is enough.
func ociFeatures(b []byte) Features {
	var f features.Features
	if len(b) == 0 || json.Unmarshal(b, &f) != nil {
		return Features{}
	}
	return Features{
		RecursiveReadOnlyMounts: slices.Contains(f.MountOptions, "rro"),
		UserNamespaces:          f.Linux != nil && slices.Contains(f.Linux.Namespaces, "user"),
	}
}
