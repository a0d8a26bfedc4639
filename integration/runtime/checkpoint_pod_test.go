package runtime

import (
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/integration/internal/daemontest"
)

func TestPodCheckpointAndRestoreAreUnimplementedNamingWhatIsMissing(t *testing.T) {
	f := start(t)
	ctx := daemontest.Ctx(t)
	_, err := f.Runtime.CheckpointPod(ctx, &runtimeapi.CheckpointPodRequest{PodSandboxId: "0123", OutputPath: filepath.Join(t.TempDir(), "pod.tar")})
	if status.Code(err) != codes.Unimplemented || !strings.Contains(err.Error(), "CRIU") {
		t.Errorf("CheckpointPod: %v, want Unimplemented naming CRIU", err)
	}
	_, err = f.Runtime.RestorePod(ctx, &runtimeapi.RestorePodRequest{CheckpointPath: "/nonexistent.tar"})
	if status.Code(err) != codes.Unimplemented || !strings.Contains(err.Error(), "CRIU") {
		t.Errorf("RestorePod: %v, want Unimplemented naming CRIU", err)
	}
}
