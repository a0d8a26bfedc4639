//go:build failpoints

package failpoint

import (
	"fmt"
	"os"
	"syscall"
)

// armed is the step this process crashes at, read once at start.
var armed = os.Getenv(Env)

// Hit kills the process with SIGKILL when step is the armed one.
func Hit(step string) {
	if step == "" || step != armed {
		return
	}
	fmt.Fprintf(os.Stderr, "failpoint %s: killing runletd\n", step)
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // SIGKILL cannot be caught; never return into the call
}
