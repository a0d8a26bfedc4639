package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/runlet/runlet/integration/conformance"
)

// flags are the command line. The capability flags are the suite's own
// knobs (conformance.Config); the variables the suite's go test reads
// (RUNLET_CONFORMANCE_RUNTIME, _DEFAULT_ROOT, _SUPPORTS) are their
// defaults.
type flags struct {
	shim, profile                       string
	runtime, defaultRoot, publishBinary string
	busybox                             string
	supports                            string
	lacks, deviations                   reasons
	run, skip, junit                    string
	list, verbose                       bool
}

func defineFlags(fs *flag.FlagSet) *flags {
	f := &flags{lacks: reasons{}, deviations: reasons{}}
	fs.StringVar(&f.shim, "shim", "", "the shim v2 binary under test (required)")
	fs.StringVar(&f.profile, "profile", "auto", "auto: runlet's shims and containerd 1.6's containerd-shim-runc-v2 get their known capabilities and deviations (flags add to them); none: only the flags describe the shim")
	fs.StringVar(&f.runtime, "runtime", os.Getenv("RUNLET_CONFORMANCE_RUNTIME"), "the OCI runtime the shim drives, name or path (default runc); used to find and remove containers a shim left")
	fs.StringVar(&f.defaultRoot, "default-root", os.Getenv("RUNLET_CONFORMANCE_DEFAULT_ROOT"), "the runtime root the shim uses when given no options, without the namespace (containerd's: /run/containerd/runc); empty skips the check that sends none")
	fs.StringVar(&f.publishBinary, "publish-binary", "", "passed to the shim as -publish-binary (default /bin/false: events must go over ttrpc)")
	fs.StringVar(&f.busybox, "busybox", "", "the static busybox the containers' root filesystems are made of (default: busybox on PATH)")
	fs.StringVar(&f.supports, "supports", os.Getenv("RUNLET_CONFORMANCE_SUPPORTS"), "comma-separated capabilities the shim claims: their checks must pass (see -list)")
	fs.Var(f.lacks, "lacks", "`CAPABILITY[=REASON]` the shim lacks: its checks skip with the reason (repeatable)")
	fs.Var(f.deviations, "deviation", "`DEVIATION=REASON`: a known departure to accept, the call must still fail (repeatable, see -list)")
	fs.StringVar(&f.run, "run", "", "run only the checks matching this `regexp` over group/Check, as go test -run")
	fs.StringVar(&f.skip, "skip", "", "leave out the checks matching this `regexp` over group/Check, as go test -skip")
	fs.StringVar(&f.junit, "junit", "", "write a JUnit XML report to `FILE`")
	fs.BoolVar(&f.list, "list", false, "print the checks, capabilities and deviations, and exit")
	fs.BoolVar(&f.verbose, "v", false, "print every check's log as it runs (default: the log of failed checks only)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: runlet-conformance -shim PATH [flags]\n\n"+
			"Runs runlet's shim conformance suite against a containerd shim v2 binary.\n"+
			"Needs root, the runtime the shim drives and a static busybox (busybox-static).\n"+
			"Exit status: 0 all selected checks passed or skipped, 1 a check failed, 2 the suite could not run.\n\n")
		fs.PrintDefaults()
	}
	return f
}

// config builds the suite's Config: the known profile of the shim (with
// -profile auto), then what the flags set.
func (f *flags) config(fs *flag.FlagSet) (conformance.Config, error) {
	if f.shim == "" {
		return conformance.Config{}, fmt.Errorf("-shim is required (the shim v2 binary to check)")
	}
	var cfg conformance.Config
	switch f.profile {
	case "auto":
		cfg, _ = conformance.KnownConfig(f.shim)
	case "none":
		cfg = conformance.Config{Shim: f.shim}
	default:
		return cfg, fmt.Errorf("-profile %q: want auto or none", f.profile)
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	override := func(dst *string, name, value string) {
		if set[name] || value != "" {
			*dst = value
		}
	}
	override(&cfg.Runtime, "runtime", f.runtime)
	override(&cfg.DefaultRoot, "default-root", f.defaultRoot)
	override(&cfg.PublishBinary, "publish-binary", f.publishBinary)
	cfg.Busybox = f.busybox

	supports, err := conformance.ParseCapabilities(f.supports)
	if err != nil {
		return cfg, fmt.Errorf("-supports: %w", err)
	}
	for _, c := range supports {
		delete(cfg.Lacks, c)
		if !slices.Contains(cfg.Supports, c) {
			cfg.Supports = append(cfg.Supports, c)
		}
	}
	for name, reason := range f.lacks {
		c := conformance.Capability(name)
		if !conformance.IsCapability(c) {
			return cfg, fmt.Errorf("-lacks %s: unknown capability (see -list)", name)
		}
		if slices.Contains(supports, c) {
			return cfg, fmt.Errorf("-supports and -lacks both name %s", name)
		}
		cfg.Supports = slices.DeleteFunc(cfg.Supports, func(s conformance.Capability) bool { return s == c })
		if reason == "" {
			reason = "declared with -lacks"
		}
		if cfg.Lacks == nil {
			cfg.Lacks = map[conformance.Capability]string{}
		}
		cfg.Lacks[c] = reason
	}
	for name, reason := range f.deviations {
		d := conformance.Deviation(name)
		if !conformance.IsDeviation(d) {
			return cfg, fmt.Errorf("-deviation %s: unknown deviation (see -list)", name)
		}
		if reason == "" {
			return cfg, fmt.Errorf("-deviation %s: give the reason, %s=REASON", name, name)
		}
		if cfg.Deviations == nil {
			cfg.Deviations = map[conformance.Deviation]string{}
		}
		cfg.Deviations[d] = reason
	}
	return cfg, nil
}

// reasons is a repeatable NAME[=REASON] flag.
type reasons map[string]string

func (r reasons) String() string {
	var out []string
	for k, v := range r {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

func (r reasons) Set(s string) error {
	name, reason, _ := strings.Cut(s, "=")
	if name = strings.TrimSpace(name); name == "" {
		return fmt.Errorf("want NAME[=REASON], got %q", s)
	}
	r[name] = strings.TrimSpace(reason)
	return nil
}
