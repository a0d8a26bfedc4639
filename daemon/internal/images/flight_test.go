package images

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestFlightSharesOneCallAmongConcurrentCallers(t *testing.T) {
	var g flightGroup[int]
	var calls atomic.Int32
	release := make(chan struct{})
	results := make(chan int, 3)
	for range 3 {
		go func() {
			v, _ := g.do(context.Background(), "k", func(context.Context) (int, error) {
				calls.Add(1)
				<-release
				return 42, nil
			})
			results <- v
		}()
	}
	time.Sleep(50 * time.Millisecond) // let all three join the flight
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
	var g flightGroup[int]
	started := make(chan struct{})
	cancelled := make(chan struct{})
	release := make(chan struct{})
	fn := func(ctx context.Context) (int, error) {
		close(started)
		select {
		case <-release:
			return 7, nil
		case <-ctx.Done():
			close(cancelled)
			return 0, ctx.Err()
		}
	}
	impatient, giveUp := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := g.do(impatient, "k", fn); errc <- err }()
	<-started
	patient := make(chan int, 1)
	go func() { v, _ := g.do(context.Background(), "k", fn); patient <- v }()
	time.Sleep(50 * time.Millisecond)
	giveUp()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("the impatient caller got %v", err)
	}
	select {
	case <-cancelled:
		t.Fatal("the shared call was cancelled while a caller still waited")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if v := <-patient; v != 7 {
		t.Fatalf("the patient caller got %d", v)
	}

	// A lone caller who gives up cancels the call.
	var g2 flightGroup[int]
	started2, cancelled2 := make(chan struct{}), make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started2; cancel() }()
	g2.do(ctx, "k", func(ctx context.Context) (int, error) {
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
