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

func TestSplitRuleUnescapesQuotesInAComment(t *testing.T) {
	got := SplitRule(`-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \"net-a\" id: \"abc\"" -m multiport --dports 80 -j CNI-DN-1`)
	want := []string{"-A", "CNI-HOSTPORT-DNAT", "-p", "tcp", "-m", "comment", "--comment", `dnat name: "net-a" id: "abc"`,
		"-m", "multiport", "--dports", "80", "-j", "CNI-DN-1"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q", got)
	}
}
