package keylock

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestFlightSharesOneCallAmongConcurrentCallers(t *testing.T) {
	var g Flights[int]
	var calls atomic.Int32
	release := make(chan struct{})
	results := make(chan int, 3)
	for range 3 {
		go func() {
			v, _ := g.Do(context.Background(), "k", func(context.Context) (int, error) {
				calls.Add(1)
				<-release
				return 42, nil
			})
			results <- v
		}()
	}
	waitFor(t, func() bool { return g.Waiting("k") == 3 }) // all three joined the one call
	close(release)
	for range 3 {
		if v := <-results; v != 42 {
			t.Fatalf("got %d", v)
		}
	}
	if calls.Load() != 1 {
		t.Fatalf("%d calls, want 1", calls.Load())
	}
}

func TestFlightSurvivesOneCallerGivingUpAndStopsWhenAllDo(t *testing.T) {
	var g Flights[int]
	started := make(chan struct{})
	release := make(chan struct{})
	var callCtx context.Context
	fn := func(ctx context.Context) (int, error) {
		callCtx = ctx
		close(started)
		select {
		case <-release:
			return 7, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	impatient, giveUp := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := g.Do(impatient, "k", fn); errc <- err }()
	<-started
	patient := make(chan int, 1)
	go func() { v, _ := g.Do(context.Background(), "k", fn); patient <- v }()
	waitFor(t, func() bool { return g.Waiting("k") == 2 })
	giveUp()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("the impatient caller got %v", err)
	}
	// A cancel would have happened in the impatient caller's Do, before it
	// returned.
	if err := callCtx.Err(); err != nil {
		t.Fatalf("the shared call was cancelled while a caller still waited: %v", err)
	}
	close(release)
	if v := <-patient; v != 7 {
		t.Fatalf("the patient caller got %d", v)
	}

	// A lone caller who gives up cancels the call.
	var g2 Flights[int]
	started2, cancelled2 := make(chan struct{}), make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started2; cancel() }()
	g2.Do(ctx, "k", func(ctx context.Context) (int, error) {
		close(started2)
		<-ctx.Done()
		close(cancelled2)
		return 0, ctx.Err()
	})
	select {
	case <-cancelled2:
	case <-time.After(5 * time.Second):
		t.Fatal("the call went on after its only caller gave up")
	}
}

// waitFor polls cond until it holds (the test's own deadline bounds it).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for !cond() {
		time.Sleep(time.Millisecond)
	}
}

func TestACallerAfterEveryoneGaveUpStartsAFreshCall(t *testing.T) {
	var g Flights[int]
	started, release := make(chan struct{}), make(chan struct{})
	impatient, giveUp := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := g.Do(impatient, "k", func(ctx context.Context) (int, error) {
			close(started)
			<-release // the cancelled call takes its time undoing itself
			return 0, ctx.Err()
		})
		errc <- err
	}()
	<-started
	giveUp()
	<-errc
	got := make(chan int, 1)
	go func() {
		v, _ := g.Do(context.Background(), "k", func(context.Context) (int, error) { return 9, nil })
		got <- v
	}()
	close(release) // the dropped call ends; the late caller's own call runs
	if v := <-got; v != 9 {
		t.Fatalf("a caller after everyone gave up got %d from the cancelled call, want its own 9", v)
	}
}
