package conformance

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// KnownConfig is the configuration of a shim the suite knows, recognised
// by its file name: runlet's own shims (which claim every capability: a
// check they fail is a bug, never a skip) and containerd 1.6's
// containerd-shim-runc-v2 (asked with -v; its gaps and deviations are
// measured, see README.md). ok is false for any other shim: it is probed.
func KnownConfig(shim string) (cfg Config, ok bool) {
	switch base := filepath.Base(shim); {
	case base == "runlet-shim-runc-v2":
		return RunletShimConfig(shim, "runc"), true
	case base == "runlet-shim-crun":
		return RunletShimConfig(shim, "crun"), true
	case base == "containerd-shim-runc-v2" && isContainerd16(shim):
		return Containerd16Config(shim), true
	}
	return Config{Shim: shim}, false
}

// RunletShimConfig is the configuration of runlet's shim driving runtime.
func RunletShimConfig(shim, runtime string) Config {
	return Config{
		Shim:        shim,
		Runtime:     runtime,
		DefaultRoot: "/run/runlet/runtime/" + runtime,
		Supports: []Capability{BootstrapV3, TaskV3, Info, OutputBeforeExit, ConcurrentFirstStart,
			BinaryLogURI, CRILogURI, EventsKept, Checkpoint},
	}
}

// Containerd16Config is the configuration of containerd 1.6's runc shim
// (Debian 12's /usr/bin/containerd-shim-runc-v2), the reference.
func Containerd16Config(shim string) Config {
	const why = "containerd 1.6 predates it"
	return Config{
		Shim:          shim,
		Runtime:       "runc",
		DefaultRoot:   "/run/containerd/runc",
		PublishBinary: "/usr/bin/containerd",
		Supports:      []Capability{BinaryLogURI, Checkpoint},
		Lacks: map[Capability]string{
			BootstrapV3: why + " (bootstrap v3 is containerd >= 2.3)",
			TaskV3:      why + " (task v3 is containerd >= 2.0)",
			Info:        why + " (-info is containerd >= 2.0)",
			CRILogURI:   "a runlet extension: containerd's CRI copies the FIFOs into the log itself",
			EventsKept:  "containerd 1.6 evicts an event after five retries (measured: 12 refused connections for /tasks/oom and /tasks/exit over about 20 s, then \"evicting /tasks/exit from queue because of retry count\")",
		},
		Deviations: map[Deviation]string{
			DuplicateCreateCode:    "containerd 1.6 reports runc's error as Unknown",
			CloseIOUnknownExecCode: "containerd 1.6 reports a wrapped not-found as Unknown",
			TerminalStdinFIFOLeak:  "containerd 1.6's copyConsole never closes the stdin FIFO",
			DuplicateStartCode:     "containerd 1.6 answers a Start of a started or stopped process with Unknown",
			KillWaitsForStart:      "containerd 1.6's Kill takes the init's lock that a hanging Start holds",
			FileURIStderrLost:      "containerd 1.6's copy of stderr into a file:// log fails now and then on a loaded machine (\"error copying stderr\" in its log; measured about 1 run in 10 with both cores busy)",
		},
	}
}

var containerd16Version = regexp.MustCompile(`Version:\s+v?1\.6\.`)

// isContainerd16 asks the shim's -v whether it is containerd 1.6.
func isContainerd16(shim string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, shim, "-v").Output()
	return err == nil && containerd16Version.Match(out)
}

// ParseCapabilities reads a comma-separated capability list ("" is none)
// and refuses names the suite does not know.
func ParseCapabilities(list string) ([]Capability, error) {
	var out []Capability
	for _, name := range strings.Split(list, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		c := Capability(name)
		if !IsCapability(c) {
			return nil, fmt.Errorf("unknown capability %q (known: %s)", name, strings.Join(capabilityNames(), ", "))
		}
		out = append(out, c)
	}
	return out, nil
}
