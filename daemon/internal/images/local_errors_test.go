package images

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/containerd/errdefs"
)

func TestLocalErrorsAreNeverLeftWithoutAClass(t *testing.T) {
	full := fmt.Errorf("write layer: %w", &os.PathError{Op: "write", Path: "f", Err: syscall.ENOSPC})
	if err := classifyLocal(full); !errdefs.IsResourceExhausted(err) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("a full disk: %v, want ResourceExhausted keeping ENOSPC", err)
	}
	if err := classifyLocal(errors.New("odd")); !errdefs.IsInternal(err) {
		t.Fatalf("an unclassified error: %v, want Internal", err)
	}
	nf := fmt.Errorf("x: %w", errdefs.ErrNotFound)
	if err := classifyLocal(nf); err != nf {
		t.Fatalf("a classified error changed: %v", err)
	}
}
