package conformance

import (
	"errors"
	"testing"
)

// Run runs every check against the shim as subtests of t ("group/Check",
// so go test's -run and -skip select them). Each check has its own
// bundles, events server and stdio, and is followed by a leak check. Run
// skips under -short and on a host that cannot run the suite (not root, no
// runtime, no static busybox).
func Run(t *testing.T, cfg Config) {
	if testing.Short() {
		t.Skip("shim conformance drives real shims and runtimes: skipped in -short mode")
	}
	s, err := newSuite(cfg)
	if errors.Is(err, ErrUnavailable) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Log(s.describe())
	for _, g := range allGroups() {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.checks {
				t.Run(c.name, func(t *testing.T) { s.runCheck(t, c) })
			}
		})
	}
}
