//go:build !containerdwire

package wirecompat

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// mustRun are tests of the containerdwire binary whose absence means the
// driver checked nothing.
var mustRun = []string{
	"TestEveryMessageHasAContainerdCounterpart",
	"TestMessagesRoundTripThroughContainerdTypes",
	"TestEveryRPCCrossesBetweenOursAndContainerds",
	"TestForwardedEventsDecodeAsContainerdEvents",
	"TestStatsCarriesCgroupsMetricsContainerdCanDecode",
}

// TestWireCompatibleWithContainerdAPI runs the containerdwire-tagged tests of
// this package in a separate test binary, where our types and containerd's may
// both register their (identical) protobuf names.
func TestWireCompatibleWithContainerdAPI(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to build the containerdwire tests: %v", err)
	}
	cmd := exec.Command(goTool, "test", "-count=1", "-v", "-tags", "containerdwire", ".")
	cmd.Env = append(os.Environ(), "GOLANG_PROTOBUF_REGISTRATION_CONFLICT=ignore")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("containerdwire tests failed: %v\n%s", err, out)
	}
	for _, name := range mustRun {
		if !strings.Contains(string(out), "--- PASS: "+name+" ") {
			t.Errorf("containerdwire run did not pass %s:\n%s", name, out)
		}
	}
	if testing.Verbose() {
		t.Logf("%s", out)
	}
}
