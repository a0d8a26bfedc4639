package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runlet/runlet/daemon/internal/cri"
)

// TestVersionFlagPrintsTheCommitStampedAtLinkTime builds runletd the way the
// Makefile stamps it (-X main.commit) and checks --version reports the
// semver runtime_version carrying that commit, as the CRI Version call does.
func TestVersionFlagPrintsTheCommitStampedAtLinkTime(t *testing.T) {
	if testing.Short() {
		t.Skip("builds runletd: skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "runletd")
	build := exec.Command("go", "build", "-o", bin, "-ldflags", "-X main.commit=3d84577-dirty", ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("runletd --version: %v", err)
	}
	want := "runletd " + cri.ReleaseVersion + "+3d84577-dirty ("
	if !strings.HasPrefix(string(out), want) {
		t.Fatalf("runletd --version printed %q, want it to start with %q", out, want)
	}
}
