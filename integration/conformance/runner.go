package conformance

import (
	"time"
)

// Status is the outcome of one check.
type Status string

const (
	Passed  Status = "passed"
	Failed  Status = "failed"
	Skipped Status = "skipped"
)

// Result is what one check did.
type Result struct {
	// Name is "group/Check".
	Name   string
	Status Status
	// Reason is the skip reason or the first failure; empty on a pass.
	Reason string
	// Log is every line the check logged, its failures and the shim's own
	// log lines included, in order.
	Log      []string
	Duration time.Duration
}

// Options select and observe the checks RunSuite runs.
type Options struct {
	// Run selects the checks whose name matches ("" is all), Skip leaves
	// out those whose name matches; both are go test's -run and -skip
	// patterns over "group/Check".
	Run, Skip string
	// Began, when set, is called once the suite is set up, with what it
	// runs against (shim, runtime, namespace, capabilities).
	Began func(about string)
	// Started, when set, is called as each check starts.
	Started func(name string)
	// Logged, when set, is called with each line a check logs, as it
	// logs it.
	Logged func(name, line string)
	// Finished, when set, is called with each check's result.
	Finished func(Result)
	// Stop, when closed, ends the run after the running check (and its
	// cleanup); the checks not run have no result.
	Stop <-chan struct{}
}

// RunSuite runs the selected checks against the shim one after the other,
// outside go test, each in its own world followed by the leak check, as
// Run does under go test. It returns every selected check's result; an
// error means the suite could not run at all (bad config or patterns, or
// ErrUnavailable).
func RunSuite(cfg Config, opts Options) ([]Result, error) {
	run, err := newMatcher(opts.Run)
	if err != nil {
		return nil, err
	}
	skip, err := newMatcher(opts.Skip)
	if err != nil {
		return nil, err
	}
	s, err := newSuite(cfg)
	if err != nil {
		return nil, err
	}
	if opts.Began != nil {
		opts.Began(s.describe())
	}
	var results []Result
	for _, g := range allGroups() {
		for _, c := range g.checks {
			select {
			case <-opts.Stop:
				return results, nil
			default:
			}
			name := g.name + "/" + c.name
			if (opts.Run != "" && !run.matches(name)) || skip.matches(name) {
				continue
			}
			r := s.runOne(name, c, opts)
			results = append(results, r)
			if opts.Finished != nil {
				opts.Finished(r)
			}
		}
	}
	return results, nil
}

func (s *suite) runOne(name string, c check, opts Options) Result {
	if opts.Started != nil {
		opts.Started(name)
	}
	ct := &checkT{name: name}
	if opts.Logged != nil {
		ct.onLog = func(line string) { opts.Logged(name, line) }
	}
	began := time.Now()
	ct.run(func(t T) { s.runCheck(t, c) })
	status, reason := ct.status()
	ct.mu.Lock()
	log := append([]string(nil), ct.log...)
	ct.mu.Unlock()
	return Result{Name: name, Status: status, Reason: reason, Log: log, Duration: time.Since(began)}
}
