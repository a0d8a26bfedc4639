package bundle

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
)

// fakeRuntime writes an executable shell script that counts its runs in a
// file next to it and answers `features` and `--version` as given.
func fakeRuntime(t *testing.T, features, version string) (path, counter string) {
	t.Helper()
	dir := t.TempDir()
	path, counter = filepath.Join(dir, "fake-runtime"), filepath.Join(dir, "runs")
	script := "#!/bin/sh\necho run >> " + counter + "\n" +
		"case \"$1\" in\n" +
		"features) [ -n '" + features + "' ] || { echo 'unknown command features' >&2; exit 1; }; printf '%s\\n' '" + features + "' ;;\n" +
		"--version) printf '%s\\n' '" + version + "' ;;\n" +
		"esac\n"
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return path, counter
}

func runs(t *testing.T, counter string) int {
	data, _ := os.ReadFile(counter)
	return strings.Count(string(data), "run")
}

func TestRuntimeOCIVersionPrefersFeaturesOciVersionMax(t *testing.T) {
	bin, _ := fakeRuntime(t, `{"ociVersionMin":"1.0.0","ociVersionMax":"1.1.0"}`, "spec: 1.0.0")
	v, err := RuntimeOCIVersion(context.Background(), bin)
	if err != nil || v != "1.1.0" {
		t.Fatalf("RuntimeOCIVersion = %q, %v; want 1.1.0", v, err)
	}
}

func TestRuntimeOCIVersionFallsBackToVersionSpecLineAndCaches(t *testing.T) {
	bin, counter := fakeRuntime(t, "", "fake version 1.8.1\ncommit: abc\nspec: 1.0.0\n+SECCOMP")
	for range 3 {
		v, err := RuntimeOCIVersion(context.Background(), bin)
		if err != nil || v != "1.0.0" {
			t.Fatalf("RuntimeOCIVersion = %q, %v; want 1.0.0", v, err)
		}
	}
	if n := runs(t, counter); n != 2 {
		t.Fatalf("runtime ran %d times, want 2 (features, --version) then cached", n)
	}
}

func TestRuntimeOCIVersionClassifiesMissingAndSilentRuntimes(t *testing.T) {
	ctx := context.Background()
	if _, err := RuntimeOCIVersion(ctx, filepath.Join(t.TempDir(), "missing")); !errdefs.IsNotFound(err) {
		t.Errorf("missing binary: %v, want NotFound", err)
	}
	silent, _ := fakeRuntime(t, "", "fake version 1")
	if _, err := RuntimeOCIVersion(ctx, silent); !errdefs.IsNotImplemented(err) {
		t.Errorf("no spec line: %v, want NotImplemented", err)
	}
	garbage, _ := fakeRuntime(t, `{"ociVersionMax":"latest"}`, "spec: also-bad")
	if _, err := RuntimeOCIVersion(ctx, garbage); !errdefs.IsNotImplemented(err) {
		t.Errorf("malformed versions: %v, want NotImplemented", err)
	}
}

// The answer for the real runtimes must be the spec version each binary
// itself prints (runc 1.1.5: 1.0.2-dev, crun 1.8.1: 1.0.0 on Debian 12).
func TestRuntimeOCIVersionOfHostRuncAndCrunMatchesTheirSpecLine(t *testing.T) {
	specLine := regexp.MustCompile(`(?m)^spec: (\S+)$`)
	for _, runtime := range []string{"runc", "crun"} {
		t.Run(runtime, func(t *testing.T) {
			if _, err := exec.LookPath(runtime); err != nil {
				t.Skipf("%s not installed", runtime)
			}
			out, err := exec.Command(runtime, "--version").Output()
			if err != nil {
				t.Fatal(err)
			}
			m := specLine.FindSubmatch(out)
			if m == nil {
				t.Fatalf("%s --version has no spec line:\n%s", runtime, out)
			}
			v, err := RuntimeOCIVersion(context.Background(), runtime)
			if err != nil || v != string(m[1]) {
				t.Fatalf("RuntimeOCIVersion(%s) = %q, %v; want %q", runtime, v, err, m[1])
			}
		})
	}
}
