package cnitest

import (
	"strings"
	"testing"
)

func TestSplitRuleKeepsAQuotedCommentWhole(t *testing.T) {
	got := SplitRule(`-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ`)
	want := []string{"-A", "POSTROUTING", "-m", "comment", "--comment", "CNI portfwd requiring masquerade", "-j", "CNI-HOSTPORT-MASQ"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q", got)
	}
}
