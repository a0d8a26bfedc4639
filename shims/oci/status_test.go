package oci

import (
	"testing"

	"github.com/containerd/errdefs"
)

func TestAllowFollowsTheProcessStateMachine(t *testing.T) {
	for _, tc := range []struct {
		op   string
		from status
		ok   bool
	}{
		{"start", created, true}, {"start", running, false}, {"start", stopped, false},
		{"pause", running, true}, {"pause", paused, false}, {"resume", paused, true},
		{"resume", running, false}, {"exec", running, true}, {"exec", created, false},
		{"delete", created, true}, {"delete", stopped, true}, {"delete", running, false},
		{"delete", paused, false}, {"update", running, true}, {"update", stopped, false},
	} {
		err := allow(tc.op, tc.from)
		if (err == nil) != tc.ok {
			t.Errorf("%s from %s: %v", tc.op, tc.from, err)
		}
		if err != nil && !errdefs.IsFailedPrecondition(err) {
			t.Errorf("%s from %s: %v is not FailedPrecondition", tc.op, tc.from, err)
		}
	}
	if err := allow("start", deleted); !errdefs.IsNotFound(err) {
		t.Fatalf("start of a deleted process: %v, want NotFound", err)
	}
}

func TestVersionLessComparesNumericallyIgnoringSuffixes(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		less bool
	}{
		{"1.0.2-dev", "1.2.0", true}, {"1.0.0", "1.0.2-dev", true}, {"1.2.0", "1.0.2", false},
		{"1.10.0", "1.9.0", false}, {"1.0.2-dev", "1.0.2", false},
	} {
		if got := versionLess(tc.a, tc.b); got != tc.less {
			t.Errorf("versionLess(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
	if !newerThanOneZero("1.2.0") || newerThanOneZero("1.0.2-dev") {
		t.Fatal("newerThanOneZero")
	}
}
