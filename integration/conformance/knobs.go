package conformance

import "sort"

// capabilityDocs says in one line what each capability is and whether the
// suite probes it when a config neither claims nor lacks it.
var capabilityDocs = map[Capability]string{
	BootstrapV3:          "start reads protobuf BootstrapParams, replies BootstrapResult (containerd >= 2.3); probed",
	TaskV3:               "MAX_SHIM_VERSION=3 gives version 3 and containerd.task.v3.Task (containerd >= 2.0); probed by bootstrap/, the taskv3/ group runs only when claimed",
	Info:                 "`SHIM -info` prints a RuntimeInfo; probed",
	OutputBeforeExit:     "Wait returns only once the output is in the stdio FIFOs; never probed, checked when claimed",
	BinaryLogURI:         "binary:// stdio starts a logging binary; probed (a shim without it must answer Unimplemented)",
	ConcurrentFirstStart: "racing first starts of a group fork one server; never probed, checked when claimed",
	CRILogURI:            "crilog:// stdio: the shim writes the kubelet's log format (runlet); probed through -info",
	EventsKept:           "events a daemon could not take are delivered once it is back; never probed, checked when claimed",
	Checkpoint:           "the Checkpoint RPC reaches criu through the runtime; probed (Unimplemented skips)",
}

// deviationDocs says in one line what each accepted deviation relaxes.
var deviationDocs = map[Deviation]string{
	DuplicateCreateCode:    "a Create with an id in use may fail with another code than AlreadyExists",
	CloseIOUnknownExecCode: "CloseIO of an unknown exec may fail with another code than NotFound",
	TerminalStdinFIFOLeak:  "a terminal exec's stdin FIFO held open after its Delete is logged, not a leak",
	DuplicateStartCode:     "a Start of a process no longer created may fail with another code than FailedPrecondition",
	KillWaitsForStart:      "a Kill sent while Start hangs may wait for the Start",
	FileURIStderrLost:      "stderr sent to a file:// log beside stdout may be missing from it (stdout's output may not)",
}

// Knob is a capability or deviation with what it means.
type Knob struct {
	Name string
	Doc  string
}

// Capabilities lists every capability a config can claim or lack.
func Capabilities() []Knob { return knobs(capabilityDocs) }

// Deviations lists every deviation a config can declare.
func Deviations() []Knob { return knobs(deviationDocs) }

// IsDeviation reports whether d is a deviation the suite knows.
func IsDeviation(d Deviation) bool { _, ok := deviationDocs[d]; return ok }

// IsCapability reports whether c is a capability the suite knows.
func IsCapability(c Capability) bool { _, ok := capabilityDocs[c]; return ok }

func capabilityNames() []string {
	var out []string
	for _, k := range Capabilities() {
		out = append(out, k.Name)
	}
	return out
}

func knobs[K ~string](docs map[K]string) []Knob {
	var out []Knob
	for k, doc := range docs {
		out = append(out, Knob{Name: string(k), Doc: doc})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
