package oci

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runlet/runlet/bundle"
)

// prepareSpec adapts config.json to this host before the runtime reads
// it: a lower oom_score_adj than the shim may set is clamped (root without
// CAP_SYS_RESOURCE), and an ociVersion newer than the runtime supports is
// lowered (crun 1.8 refuses 1.2.0 and later). The file is rewritten only
// when something changed.
func prepareSpec(ctx context.Context, c *container) error {
	sum, err := readSpecSummary(c.bundle)
	if err != nil {
		return err
	}
	c.sharedPidNS = !sum.ownsPidNamespace()
	if !sum.needsChange() {
		return nil
	}
	spec, err := bundle.ReadSpec(c.bundle)
	if err != nil {
		return err
	}
	before := oomScoreAdj(spec)
	if err := bundle.ClampOOMScoreAdj(spec); err != nil {
		return err
	}
	changed := oomScoreAdj(spec) != before
	if newerThanOneZero(spec.Version) {
		v, err := runtimeSpecVersion(ctx, c)
		if err == nil && versionLess(v, spec.Version) {
			bundle.SetOCIVersion(spec, v)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return bundle.WriteSpec(c.bundle, spec)
}

// specSummary is the part of config.json prepareSpec looks at; decoding
// only it keeps the common case (nothing to change) off the full spec.
type specSummary struct {
	Version string `json:"ociVersion"`
	Process *struct {
		OOMScoreAdj *int `json:"oomScoreAdj"`
	} `json:"process"`
	Linux *struct {
		Namespaces []struct {
			Type string `json:"type"`
			Path string `json:"path"`
		} `json:"namespaces"`
	} `json:"linux"`
}

// ownsPidNamespace reports whether the container gets a pid namespace of
// its own; when it does not (host pid, or a pod's shared one), its other
// processes do not die with its init and the shim must kill them.
func (sum *specSummary) ownsPidNamespace() bool {
	if sum.Linux == nil {
		return false
	}
	for _, ns := range sum.Linux.Namespaces {
		if ns.Type == "pid" {
			return ns.Path == ""
		}
	}
	return false
}

func readSpecSummary(bundlePath string) (*specSummary, error) {
	b, err := os.ReadFile(bundle.ConfigPath(bundlePath))
	if err != nil {
		return nil, fmt.Errorf("read bundle config: %w", err)
	}
	var sum specSummary
	if err := json.Unmarshal(b, &sum); err != nil {
		return nil, fmt.Errorf("bundle config.json: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	return &sum, nil
}

// needsChange tells whether config.json asks for a lower oom_score_adj
// than the shim's own or an ociVersion newer than 1.0; only then does
// prepareSpec read and maybe rewrite the whole spec.
func (sum *specSummary) needsChange() bool {
	if newerThanOneZero(sum.Version) {
		return true
	}
	if sum.Process == nil || sum.Process.OOMScoreAdj == nil {
		return false
	}
	own, err := ownOOMScoreAdj()
	return err == nil && *sum.Process.OOMScoreAdj < own
}

// ownOOMScoreAdj is the shim's own score, read once: a process' score
// only changes when someone sets it, and the shim never does.
var ownOOMScoreAdj = sync.OnceValues(func() (int, error) {
	b, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
})

func oomScoreAdj(spec *specs.Spec) int {
	if spec.Process == nil || spec.Process.OOMScoreAdj == nil {
		return 0
	}
	return *spec.Process.OOMScoreAdj
}

// specVersions caches each runtime binary's runtime-spec version.
var specVersions sync.Map // binary -> string

// runtimeSpecVersion asks the runtime (`--version`'s spec: line) through
// go-runc, whose commands the shim's reaper waits for.
func runtimeSpecVersion(ctx context.Context, c *container) (string, error) {
	if v, ok := specVersions.Load(c.record.Binary); ok {
		return v.(string), nil
	}
	ver, err := c.runtime.Version(ctx)
	if err != nil {
		return "", fmt.Errorf("runtime version: %w", err)
	}
	if ver.Spec == "" {
		return "", fmt.Errorf("runtime %s reports no spec version", c.record.Binary)
	}
	specVersions.Store(c.record.Binary, ver.Spec)
	return ver.Spec, nil
}

func newerThanOneZero(v string) bool { return versionLess("1.0.99", v) }

// versionLess compares major.minor.patch numerically, ignoring suffixes
// such as -dev.
func versionLess(a, b string) bool {
	pa, pb := versionParts(a), versionParts(b)
	for i := range pa {
		if pa[i] != pb[i] {
			return pa[i] < pb[i]
		}
	}
	return false
}

func versionParts(v string) [3]int {
	var out [3]int
	core, _, _ := strings.Cut(v, "-")
	for i, part := range strings.SplitN(core, ".", 3) {
		out[i], _ = strconv.Atoi(part)
	}
	return out
}
