package names

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/bundle"
	"github.com/runlet/runlet/daemon/internal/store"
)

func registry(t *testing.T) (*Registry, *store.DB) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return New(db, "pod-names", "pods"), db
}

func TestANameIsHeldByOneIDAtATime(t *testing.T) {
	r, _ := registry(t)
	if err := r.Claim("web_default_uid_0", "a", "rec"); err != nil {
		t.Fatal(err)
	}
	if err := r.Claim("web_default_uid_0", "a", "rec"); err != nil {
		t.Fatalf("reserving again for the holder: %v", err)
	}
	err := r.Claim("web_default_uid_0", "b", "rec")
	if !errdefs.IsAlreadyExists(err) {
		t.Fatalf("second id: %v, want AlreadyExists", err)
	}
	if err := r.Unclaim("web_default_uid_0", "b"); err != nil {
		t.Fatal(err)
	}
	if id, _ := r.Holder("web_default_uid_0"); id != "a" {
		t.Fatalf("a release by a non-holder freed the name (holder %q)", id)
	}
	if err := r.Unclaim("web_default_uid_0", "a"); err != nil {
		t.Fatal(err)
	}
	if err := r.Claim("web_default_uid_0", "b", "rec"); err != nil {
		t.Fatalf("after release: %v", err)
	}
}

func TestConcurrentReservationsOfOneNameLetExactlyOneWin(t *testing.T) {
	r, _ := registry(t)
	var wg sync.WaitGroup
	wins := make(chan string, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			if r.Claim("pod", id, "rec") == nil {
				wins <- id
			}
		}(NewID())
	}
	wg.Wait()
	close(wins)
	if n := len(wins); n != 1 {
		t.Fatalf("%d reservations won, want 1", n)
	}
}

func TestReservationsSurviveARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := New(db, "n", "r").Claim("pod", "a", "rec"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := New(db, "n", "r").Claim("pod", "b", "rec"); !errdefs.IsAlreadyExists(err) {
		t.Fatalf("after reopening: %v", err)
	}
}

func TestNewIDIsAValidUniquePathComponent(t *testing.T) {
	a, b := NewID(), NewID()
	if a == b || len(a) != 64 {
		t.Fatalf("ids %q %q", a, b)
	}
	if err := bundle.ValidateID(a); err != nil {
		t.Fatal(err)
	}
}
