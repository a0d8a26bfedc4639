package critest

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// Spec is one spec of a ginkgo JUnit report.
type Spec struct {
	Name    string // the full text, "[It] ..." with its containers' texts
	Status  string // passed, failed, skipped, pending, panicked, interrupted, timedout...
	Message string // the failure or skip message
	Detail  string // the failure's body (location and stack)
}

type junitSuites struct {
	Suites []struct {
		Cases []struct {
			Name    string `xml:"name,attr"`
			Status  string `xml:"status,attr"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Body    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
				Body    string `xml:",chardata"`
			} `xml:"error"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// ParseJUnit reads the specs ("[It]" test cases) of a ginkgo v2 JUnit
// report; suite nodes ([BeforeSuite], [AfterSuite], ...) are left out.
func ParseJUnit(r io.Reader) ([]Spec, error) {
	var doc junitSuites
	if err := xml.NewDecoder(r).Decode(&doc); err != nil {
		return nil, fmt.Errorf("parse JUnit report: %w", err)
	}
	var specs []Spec
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if !strings.HasPrefix(c.Name, "[It]") {
				if c.Failure != nil || c.Error != nil {
					specs = append(specs, Spec{Name: c.Name, Status: "failed", Message: "suite node failed"})
				}
				continue
			}
			sp := Spec{Name: c.Name, Status: c.Status}
			switch {
			case c.Failure != nil:
				sp.Message, sp.Detail = c.Failure.Message, c.Failure.Body
			case c.Error != nil:
				sp.Message, sp.Detail = c.Error.Message, c.Error.Body
			case c.Skipped != nil:
				sp.Message = c.Skipped.Message
			}
			if sp.Status == "" {
				sp.Status = statusOf(c.Failure != nil || c.Error != nil, c.Skipped != nil)
			}
			specs = append(specs, sp)
		}
	}
	return specs, nil
}

func statusOf(failed, skipped bool) string {
	switch {
	case failed:
		return "failed"
	case skipped:
		return "skipped"
	}
	return "passed"
}

// AllowedSkip is the one spec the tests skip: it pulls a digest pinned in
// critest (sha256:9700f9a2...), which no offline build can reproduce.
const AllowedSkip = "public image with digest should be pulled and removed"

// hostFeatureSkips are the messages of specs that skip themselves because
// this host lacks the feature they test. (SELinux specs are not even
// registered on a host without SELinux.) The NRI specs are no longer
// among them: runletd serves NRI and critest gets its socket, so an NRI
// skip ("NRI socket not configured", or a "spec discrepancy") is a fault.
var hostFeatureSkips = []string{
	"AppArmor is disabled on this host",
}

// Outcome sorts a report's specs.
type Outcome struct {
	Passed, Failed []Spec
	AllowedSkips   []Spec // AllowedSkip and host-feature skips
	NotRun         []Spec // left out by ginkgo's focus or critest's own skip of its benchmarks
	BadSkips       []Spec // any other skip: a runtime feature missing
	Pending        []Spec
}

// notRunMessage is the skip message ginkgo gives a spec that a focus or a
// skip flag left out; a spec that skips itself says "skipped - REASON".
const notRunMessage = "skipped"

// Sort classifies specs. With focused, specs the focus left out are
// NotRun; without, only critest's benchmarks may be.
func Sort(specs []Spec, focused bool) Outcome {
	var o Outcome
	for _, s := range specs {
		switch {
		case s.Status == "passed":
			o.Passed = append(o.Passed, s)
		case s.Status == "pending":
			o.Pending = append(o.Pending, s)
		case s.Status != "skipped":
			o.Failed = append(o.Failed, s)
		case strings.Contains(s.Name, AllowedSkip) || hostFeature(s.Message):
			o.AllowedSkips = append(o.AllowedSkips, s)
		case s.Message == notRunMessage && (focused || isBenchmark(s.Name)):
			o.NotRun = append(o.NotRun, s)
		default:
			o.BadSkips = append(o.BadSkips, s)
		}
	}
	return o
}

func hostFeature(msg string) bool {
	for _, m := range hostFeatureSkips {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}

// isBenchmark tells critest's benchmark specs, which critest's validation
// mode skips by its own -ginkgo.skip=benchmark.
func isBenchmark(name string) bool {
	return strings.Contains(strings.ToLower(name), "benchmark")
}
