package main

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/runlet/runlet/integration/conformance"
)

// The JUnit XML schema as CI systems read it (Jenkins, GitLab, GitHub
// actions): one testsuite per shim, one testcase per check, classname the
// group.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Body    string `xml:",chardata"`
}

// junitReport turns the results of one run into a JUnit document.
func junitReport(cfg conformance.Config, results []conformance.Result, at time.Time) junitSuites {
	runtime := cfg.Runtime
	if runtime == "" {
		runtime = "runc" // the suite's default
	}
	s := junitSuite{
		Name:      "runlet-conformance/" + filepath.Base(cfg.Shim),
		Timestamp: at.UTC().Format("2006-01-02T15:04:05"),
		Properties: []junitProperty{
			{"shim", cfg.Shim}, {"runtime", runtime}, {"default-root", cfg.DefaultRoot},
			{"supports", fmt.Sprint(cfg.Supports)},
		},
	}
	var total time.Duration
	for _, r := range results {
		group, name, _ := strings.Cut(r.Name, "/")
		c := junitCase{Classname: group, Name: name, Time: seconds(r.Duration), SystemOut: strings.Join(r.Log, "\n")}
		switch r.Status {
		case conformance.Failed:
			c.Failure = &junitMessage{Message: r.Reason, Body: c.SystemOut}
			s.Failures++
		case conformance.Skipped:
			c.Skipped = &junitMessage{Message: r.Reason}
			s.Skipped++
		}
		s.Cases = append(s.Cases, c)
		total += r.Duration
	}
	s.Tests, s.Time = len(results), seconds(total)
	return junitSuites{Tests: s.Tests, Failures: s.Failures, Skipped: s.Skipped, Time: s.Time, Suites: []junitSuite{s}}
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// writeJUnit writes the report to path.
func writeJUnit(path string, cfg conformance.Config, results []conformance.Result) error {
	data, err := xml.MarshalIndent(junitReport(cfg, results, time.Now()), "", "  ")
	if err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	data = append([]byte(xml.Header), append(data, '\n')...)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	return nil
}
