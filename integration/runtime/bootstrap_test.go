package runtime

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/runlet/runlet/bundle/bundletest"
	bootstrap "github.com/runlet/runlet/proto/bootstrap/v1"
	"github.com/runlet/runlet/proto/runc/options"
)

// capturingShim writes a shim wrapper that saves what `start` reads on
// stdin in dir before handing it to the real shim.
func capturingShim(t *testing.T, dir, real string) string {
	t.Helper()
	p := filepath.Join(dir, "capturing-shim")
	script := fmt.Sprintf(`#!/bin/sh
for last; do :; done
if [ "$last" = start ]; then
	cat > %[1]q/stdin-$$ && exec %[2]q "$@" < %[1]q/stdin-$$
fi
exec %[2]q "$@"
`, dir, real)
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func capturedStdin(t *testing.T, dir string) [][]byte {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "stdin-*"))
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func TestARuntimeWithBootstrapParamsGetsContainerd23sStartInput(t *testing.T) {
	paramsDir, optionsDir := t.TempDir(), t.TempDir()
	real := bundletest.ShimBinary(t, "runlet-shim-runc-v2")
	extra := fmt.Sprintf(`[runtimes.boot-params]
shim = %q
bootstrap = "params"
[runtimes.boot-params.options]
binary_name = "runc"
[runtimes.boot-options]
shim = %q
[runtimes.boot-options.options]
binary_name = "runc"
`, capturingShim(t, paramsDir, real), capturingShim(t, optionsDir, real))
	f := startExtra(t, extra)
	podParams := f.runp(t, "boot-params", "boot-params")
	podOptions := f.runp(t, "boot-options", "boot-options")

	got := capturedStdin(t, paramsDir)
	if len(got) != 1 {
		t.Fatalf("the params shim started %d times, want once", len(got))
	}
	var params bootstrap.BootstrapParams
	if err := proto.Unmarshal(got[0], &params); err != nil || params.GetInstanceId() != podParams || params.GetNamespace() != "k8s.io" {
		t.Fatalf("start's stdin is not BootstrapParams for pod %s: %v, %v", podParams, &params, err)
	}
	var opts options.Options
	if len(params.GetExtensions()) != 1 || proto.Unmarshal(params.GetExtensions()[0].GetValue().GetValue(), &opts) != nil || opts.GetBinaryName() != "runc" {
		t.Fatalf("BootstrapParams does not carry the runtime options: %v", params.GetExtensions())
	}

	got = capturedStdin(t, optionsDir)
	var bare anypb.Any
	if len(got) != 1 || proto.Unmarshal(got[0], &bare) != nil || proto.Unmarshal(bare.GetValue(), &opts) != nil || opts.GetBinaryName() != "runc" {
		t.Fatalf("without bootstrap, start's stdin is not the bare options: %d captures", len(got))
	}
	for _, pod := range []string{podParams, podOptions} {
		if state, _ := f.inspectp(t, pod); state != "SANDBOX_READY" {
			t.Fatalf("pod %s: %s", pod, state)
		}
	}
	f.MustCrictl(t, "rmp", "-f", podParams, podOptions)
	f.assertNothingLeft(t)
}
