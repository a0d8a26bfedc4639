package specgen

import (
	"context"
	"encoding/json"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runlet/runlet/bundle"
)

// NewBundle writes a task's bundle with spec made fit for this host: a
// lower oom_score_adj than runletd's own is clamped (containerd gives the
// pause -998; root without CAP_SYS_RESOURCE cannot lower its score, and
// not every shim clamps it as runlet's do).
func NewBundle(ctx context.Context, stateDir, namespace, id string, spec *specs.Spec) (*bundle.Bundle, error) {
	if err := bundle.ClampOOMScoreAdj(spec); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("encode the spec of %s: %w", id, err)
	}
	return bundle.New(ctx, stateDir, namespace, id, raw)
}
