package bundle

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
)

// DefaultOCIVersion is the ociVersion DefaultSpec writes: old enough for
// every runtime on the host (crun 1.8 rejects 1.2.0 and later, runc 1.1
// supports up to 1.0.2-dev), unlike the module's specs.Version. Prefer
// RuntimeOCIVersion of the runtime that will run the bundle.
const DefaultOCIVersion = "1.0.2"

// versionQueryTimeout bounds each run of the runtime binary.
const versionQueryTimeout = 10 * time.Second

var ociVersionPattern = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$`)

// runtimeVersionCache remembers each binary's answer. The key includes size
// and modification time so that an upgraded binary is asked again.
var runtimeVersionCache = struct {
	sync.Mutex
	m map[string]string
}{m: map[string]string{}}

// RuntimeOCIVersion returns the newest OCI runtime-spec version that
// runtimeBinary (a name on PATH or a path) supports: ociVersionMax from
// `BIN features` when the runtime has that command (runc 1.1+), otherwise
// the "spec:" line of `BIN --version` (crun, older runc). Answers are cached
// per binary. A missing binary is errdefs.ErrNotFound; a runtime reporting
// no version is errdefs.ErrNotImplemented.
func RuntimeOCIVersion(ctx context.Context, runtimeBinary string) (string, error) {
	path, err := exec.LookPath(runtimeBinary)
	if err != nil {
		return "", fmt.Errorf("runtime %q: %w: %w", runtimeBinary, err, errdefs.ErrNotFound)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("runtime %q: %w", runtimeBinary, classifyFSError(err))
	}
	key := fmt.Sprintf("%s\x00%d\x00%d", path, fi.Size(), fi.ModTime().UnixNano())
	runtimeVersionCache.Lock()
	v, ok := runtimeVersionCache.m[key]
	runtimeVersionCache.Unlock()
	if ok {
		return v, nil
	}
	v, err = queryOCIVersion(ctx, path)
	if err != nil {
		return "", err
	}
	runtimeVersionCache.Lock()
	runtimeVersionCache.m[key] = v
	runtimeVersionCache.Unlock()
	return v, nil
}

func queryOCIVersion(ctx context.Context, path string) (string, error) {
	out, featErr := runRuntime(ctx, path, "features")
	if featErr == nil {
		if v, err := parseFeaturesVersion(out); err == nil {
			return v, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	out, err := runRuntime(ctx, path, "--version")
	if err != nil {
		return "", err
	}
	return parseVersionOutput(out)
}

func runRuntime(ctx context.Context, path string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, versionQueryTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %w: %s", path, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// parseFeaturesVersion reads ociVersionMax from `runc features` output.
func parseFeaturesVersion(out []byte) (string, error) {
	var f features.Features
	if err := json.Unmarshal(out, &f); err != nil {
		return "", fmt.Errorf("decode runtime features: %w: %w", err, errdefs.ErrInvalidArgument)
	}
	return checkOCIVersion(f.OCIVersionMax)
}

// parseVersionOutput reads the "spec: X" line of `BIN --version` output.
func parseVersionOutput(out []byte) (string, error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "spec:"); ok {
			return checkOCIVersion(strings.TrimSpace(v))
		}
	}
	return "", fmt.Errorf("runtime --version has no spec: line: %w", errdefs.ErrNotImplemented)
}

func checkOCIVersion(v string) (string, error) {
	if !ociVersionPattern.MatchString(v) {
		return "", fmt.Errorf("runtime reports OCI version %q: %w", v, errdefs.ErrNotImplemented)
	}
	return v, nil
}

// SetOCIVersion sets the ociVersion written to config.json, typically to
// what RuntimeOCIVersion reported for the runtime that runs the bundle.
func SetOCIVersion(spec *specs.Spec, version string) {
	spec.Version = version
}
