package daemontest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
	buildDir  string

	failpointsOnce sync.Once
	failpointsBin  string
	failpointsErr  error
)

// buildDirPrefix names the directory of a test binary's runletd build; the
// pid that follows lets a later run remove what a crashed run left.
const buildDirPrefix = "runletd-test-"

// Runletd is $RUNLET_BIN (the binary, or a directory holding runletd), or
// runletd built once for this test binary (call Cleanup from TestMain).
func Runletd(t testing.TB) string {
	t.Helper()
	if b := os.Getenv("RUNLET_BIN"); b != "" {
		if st, err := os.Stat(b); err == nil && st.IsDir() {
			b = filepath.Join(b, "runletd")
		}
		return b
	}
	buildOnce.Do(func() {
		dir, err := testBuildDir()
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "runletd")
		buildErr = goBuild(t, builtBin)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// RunletdWithFailpoints is runletd built once for this test binary with
// the build tag "failpoints": it kills itself at the step named by
// $RUNLET_FAILPOINT (daemon/failpoint). It lives beside Runletd's build.
func RunletdWithFailpoints(t testing.TB) string {
	t.Helper()
	failpointsOnce.Do(func() {
		dir, err := testBuildDir()
		if err != nil {
			failpointsErr = err
			return
		}
		failpointsBin = filepath.Join(dir, "runletd-failpoints")
		failpointsErr = goBuild(t, failpointsBin, "-tags", "failpoints")
	})
	if failpointsErr != nil {
		t.Fatal(failpointsErr)
	}
	return failpointsBin
}

// Cleanup removes this test binary's runletd build; call it from TestMain.
func Cleanup() {
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
}

var buildDirOnce sync.Once

// testBuildDir makes this test binary's build directory once.
func testBuildDir() (string, error) {
	var err error
	buildDirOnce.Do(func() {
		removeStaleBuildDirs()
		buildDir = filepath.Join(os.TempDir(), fmt.Sprintf("%s%d", buildDirPrefix, os.Getpid()))
		err = os.Mkdir(buildDir, 0o700)
	})
	return buildDir, err
}

// goBuild builds runletd to out with extra go build flags.
func goBuild(t testing.TB, out string, flags ...string) error {
	args := append(append([]string{"build"}, flags...), "-o", out, "./daemon/cmd/runletd")
	cmd := exec.Command("go", args...)
	cmd.Dir = RepoRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %v: %v\n%s", args, err, out)
	}
	return nil
}

func removeStaleBuildDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), buildDirPrefix+"*"))
	for _, d := range dirs {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), buildDirPrefix))
		if err == nil && syscall.Kill(pid, 0) == syscall.ESRCH {
			os.RemoveAll(d)
		}
	}
}
