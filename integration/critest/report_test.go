package critest

import (
	"strings"
	"testing"
)

// A ginkgo v2 JUnit report as critest writes it (trimmed).
const sampleReport = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="6" disabled="0" errors="0" failures="1" time="1">
  <testsuite name="CRI validation" package="/x" tests="6" disabled="0" skipped="3" errors="0" failures="1" time="1">
    <testcase name="[BeforeSuite]" classname="CRI validation" status="passed" time="0"></testcase>
    <testcase name="[It] [k8s.io] Image Manager public image with tag should be pulled and removed [Conformance] [Serial]" classname="CRI validation" status="passed" time="0.1"></testcase>
    <testcase name="[It] [k8s.io] Image Manager public image with digest should be pulled and removed [Conformance] [Serial]" classname="CRI validation" status="skipped" time="0"><skipped message="skipped"></skipped></testcase>
    <testcase name="[It] [k8s.io] AppArmor runtime should support apparmor field should work" classname="CRI validation" status="skipped" time="0"><skipped message="skipped - AppArmor is disabled on this host"></skipped></testcase>
    <testcase name="[It] [k8s.io] Security Context UserNamespaces runtime should support NamespaceMode_POD" classname="CRI validation" status="skipped" time="0"><skipped message="skipped - no runtime handler found which supports user namespaces"></skipped></testcase>
    <testcase name="[It] [k8s.io] Streaming runtime should support attach [Conformance]" classname="CRI validation" status="failed" time="1"><failure message="failed to attach" type="failed">[FAILED] failed to attach&#xA;In [It] at: streaming.go:210</failure></testcase>
    <testcase name="[It] [k8s.io] Pod benchmark about operations on PodSandbox" classname="CRI validation" status="skipped" time="0"><skipped message="skipped"></skipped></testcase>
  </testsuite>
</testsuites>`

func TestParseJUnitReadsSpecsButNotSuiteNodes(t *testing.T) {
	specs, err := ParseJUnit(strings.NewReader(sampleReport))
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 6 {
		t.Fatalf("%d specs, want 6: %+v", len(specs), specs)
	}
	if f := specs[4]; f.Status != "failed" || f.Message != "failed to attach" || !strings.Contains(f.Detail, "streaming.go:210") {
		t.Errorf("failed spec read as %+v", f)
	}
}

func TestSortAllowsOnlyTheDigestSpecAndHostFeatureSkips(t *testing.T) {
	specs, err := ParseJUnit(strings.NewReader(sampleReport))
	if err != nil {
		t.Fatal(err)
	}
	o := Sort(specs, false)
	if len(o.Passed) != 1 || len(o.Failed) != 1 || len(o.AllowedSkips) != 2 || len(o.NotRun) != 1 || len(o.BadSkips) != 1 {
		t.Fatalf("sorted as %d passed, %d failed, %d allowed skips, %d not run, %d bad skips",
			len(o.Passed), len(o.Failed), len(o.AllowedSkips), len(o.NotRun), len(o.BadSkips))
	}
	if !strings.Contains(o.BadSkips[0].Name, "UserNamespaces") {
		t.Errorf("bad skip %q, want the user namespace spec", o.BadSkips[0].Name)
	}
}

func TestSortCountsSpecsAFocusLeftOutAsNotRun(t *testing.T) {
	specs := []Spec{{Name: "[It] [k8s.io] Container runtime should support execSync", Status: "skipped", Message: "skipped"}}
	if o := Sort(specs, false); len(o.BadSkips) != 1 {
		t.Errorf("without a focus, a spec left out is a bad skip: %+v", o)
	}
	if o := Sort(specs, true); len(o.NotRun) != 1 {
		t.Errorf("with a focus, a spec left out is not run: %+v", o)
	}
}

func TestSortCountsAnNRISkipAsBad(t *testing.T) {
	for _, msg := range []string{"skipped - NRI socket not configured (use -nri-socket flag)",
		"skipped - spec discrepancy: containerd loses containers created while a late-joining plugin's Synchronize is in progress"} {
		specs := []Spec{{Name: "[It] [k8s.io] NRI plugin synchronization should ...", Status: "skipped", Message: msg}}
		if o := Sort(specs, false); len(o.BadSkips) != 1 {
			t.Errorf("NRI skip %q sorted as %+v, want a bad skip", msg, o)
		}
	}
}
