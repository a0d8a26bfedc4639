package pause

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestImageIsReproducible(t *testing.T) {
	a, err := Image()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Image()
	if err != nil {
		t.Fatal(err)
	}
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da != db {
		t.Fatalf("two builds differ: %s vs %s", da, db)
	}
	cfg, err := a.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Config.Entrypoint[0] != "/pause" || cfg.OS != "linux" || len(cfg.RootFS.DiffIDs) != 1 {
		t.Fatalf("config = %+v", cfg)
	}
}

func TestBinaryIsTinyAndStatic(t *testing.T) {
	if len(Binary) > 64<<10 {
		t.Fatalf("pause is %d bytes; it should be a few KiB", len(Binary))
	}
	if string(Binary[:4]) != "\x7fELF" {
		t.Fatal("pause is not an ELF binary")
	}
}

func TestPauseExitsZeroOnSIGTERM(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "pause")
	if err := os.WriteFile(bin, Binary, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-done
		}
	})
	select {
	case err := <-done:
		t.Fatalf("pause exited on its own: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("pause after SIGTERM: %v, want exit 0", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("pause ignored SIGTERM")
	}
}

// The checked-in binary must be what csrc/pause.c builds to, so the source
// is the truth and nobody ships a stale or foreign binary.
func TestCheckedInBinaryIsBuiltFromTheSource(t *testing.T) {
	if testing.Short() {
		t.Skip("runs gcc: skipped with -short")
	}
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not installed")
	}
	// Another gcc may lay the same program out differently.
	want, _ := os.ReadFile("csrc/gcc-version")
	if have, _ := exec.Command(gcc, "-dumpfullversion").Output(); !bytes.Equal(bytes.TrimSpace(have), bytes.TrimSpace(want)) {
		t.Skipf("gcc %s here, the binary was built with gcc %s", bytes.TrimSpace(have), bytes.TrimSpace(want))
	}
	out := filepath.Join(t.TempDir(), "pause")
	cmd := exec.Command(gcc, "-static", "-nostdlib", "-Os", "-fno-asynchronous-unwind-tables",
		"-fno-stack-protector", "-Wl,--build-id=none", "-s", "-o", out, "csrc/pause.c")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, b)
	}
	built, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(built, Binary) {
		t.Fatal("the checked-in pause differs from what csrc/pause.c builds to: run go generate ./daemon/internal/pause")
	}
}
