package keylock

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestLockSerialisesCallsOnOneKey(t *testing.T) {
	var l Locks
	var inside, most, done int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock, err := l.Lock(context.Background(), "a")
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			inside++
			most = max(most, inside)
			mu.Unlock()
			time.Sleep(time.Millisecond) // widen the window a second holder would use
			mu.Lock()
			inside--
			done++
			mu.Unlock()
			unlock()
		}()
	}
	wg.Wait()
	if most != 1 || done != 16 {
		t.Fatalf("at most %d holders at once, %d done; want 1, 16", most, done)
	}
	if len(l.locks) != 0 {
		t.Fatalf("%d keys left after every unlock", len(l.locks))
	}
}

func TestLockOfAnotherKeyDoesNotWait(t *testing.T) {
	var l Locks
	unlock, _ := l.Lock(context.Background(), "a")
	defer unlock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a wait would fail at once
	u, err := l.Lock(ctx, "b")
	if err != nil {
		// select may pick ctx.Done even with the token free; retry once with a live ctx.
		u, err = l.Lock(context.Background(), "b")
	}
	if err != nil {
		t.Fatal(err)
	}
	u()
}

func TestLockGivesUpWhenTheContextEnds(t *testing.T) {
	var l Locks
	unlock, _ := l.Lock(context.Background(), "a")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Lock(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Fatalf("lock of a held key with a done context: %v, want Canceled", err)
	}
	unlock()
	if len(l.locks) != 0 {
		t.Fatalf("a given-up wait left its key: %d", len(l.locks))
	}
}
