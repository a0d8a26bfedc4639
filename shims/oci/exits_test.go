package oci

import (
	"testing"
	"time"

	runc "github.com/containerd/go-runc"
)

func newTestRouter() (*exitRouter, chan *process) {
	got := make(chan *process, 4)
	r := &exitRouter{byPid: map[int]*process{}, onExit: func(p *process, _ runc.Exit) { got <- p }}
	return r, got
}

func expectExit(t *testing.T, got chan *process, want *process) {
	t.Helper()
	select {
	case p := <-got:
		if p != want {
			t.Fatal("exit routed to the wrong process")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("exit never routed")
	}
}

func TestExitRouterDeliversExitReapedBeforeThePidWasKnown(t *testing.T) {
	r, got := newTestRouter()
	p := &process{}
	r.begin()
	r.route(runc.Exit{Pid: 42, Status: 1}) // a short exec exits before runc returns
	r.end(p, 42)
	expectExit(t, got, p)
	if len(r.early) != 0 || len(r.byPid) != 0 {
		t.Fatalf("router kept state: early %v byPid %v", r.early, r.byPid)
	}
}

func TestExitRouterMatchesRegisteredPid(t *testing.T) {
	r, got := newTestRouter()
	p := &process{}
	r.begin()
	r.end(p, 7)
	r.route(runc.Exit{Pid: 8})
	r.route(runc.Exit{Pid: 7})
	expectExit(t, got, p)
}

func TestExitRouterForgetsUnknownExitsWhenNoStartIsInFlight(t *testing.T) {
	r, _ := newTestRouter()
	r.route(runc.Exit{Pid: 99})
	if len(r.early) != 0 {
		t.Fatal("exit of an unknown pid kept with no start in flight")
	}
}
