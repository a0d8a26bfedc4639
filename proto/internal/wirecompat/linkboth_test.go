package wirecompat

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestProgramLinkingRunletAndContainerdStarts builds testdata/linkboth, a
// program importing runlet's shim library and containerd's API module, and
// runs it with protobuf-go's default conflict policy (the environment
// variable that relaxes it removed): it must start and do its work.
func TestProgramLinkingRunletAndContainerdStarts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program: skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "linkboth")
	build := exec.Command("go", "build", "-o", bin, "./testdata/linkboth")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := exec.Command(bin)
	run.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "GOLANG_PROTOBUF_REGISTRATION_CONFLICT=")
	})
	out, err := run.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("linkboth: %v\n%s", err, out)
	}
}
