package shimtest

// T is what the harness and the conformance checks need of a test: the
// part of *testing.T they use. *testing.T satisfies it (go test drives the
// suite), and so does the conformance runner's own check, so the suite
// also runs as a plain command, without `go test`.
//
// Fatal, Fatalf, Skip and Skipf end the calling goroutine (as
// runtime.Goexit does in testing); they must be called from the goroutine
// running the check, as with testing.
type T interface {
	Helper()
	Name() string
	Log(args ...any)
	Logf(format string, args ...any)
	Error(args ...any)
	Errorf(format string, args ...any)
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Skip(args ...any)
	Skipf(format string, args ...any)
	Failed() bool
	Cleanup(func())
	TempDir() string
}
