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
		removeStaleBuildDirs()
		buildDir = filepath.Join(os.TempDir(), fmt.Sprintf("%s%d", buildDirPrefix, os.Getpid()))
		if buildErr = os.Mkdir(buildDir, 0o700); buildErr != nil {
			return
		}
		builtBin = filepath.Join(buildDir, "runletd")
		cmd := exec.Command("go", "build", "-o", builtBin, "./daemon/cmd/runletd")
		cmd.Dir = RepoRoot(t)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build runletd: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// Cleanup removes this test binary's runletd build; call it from TestMain.
func Cleanup() {
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
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
