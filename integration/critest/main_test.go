package critest

import (
	"os"
	"testing"

	"github.com/runlet/runlet/integration/internal/daemontest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	daemontest.Cleanup()
	os.Exit(code)
}
