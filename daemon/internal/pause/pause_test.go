package pause

import (
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
