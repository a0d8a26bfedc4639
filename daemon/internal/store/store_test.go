package store

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
)

type record struct{ Name string }

func TestPutGetDeleteSurviveReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db", "runlet.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Put("images", "a", record{Name: "alpha"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Put("images", "b", record{Name: "beta"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Delete("images", "b"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var r record
	if err := db.Get("images", "a", &r); err != nil || r.Name != "alpha" {
		t.Fatalf("get a = %+v, %v", r, err)
	}
	if err := db.Get("images", "b", &r); !errdefs.IsNotFound(err) {
		t.Fatalf("get deleted b: %v, want NotFound", err)
	}
	var keys []string
	db.ForEach("images", func(k string, v []byte) error {
		var r record
		keys = append(keys, k)
		return json.Unmarshal(v, &r)
	})
	if len(keys) != 1 || keys[0] != "a" {
		t.Fatalf("keys = %v", keys)
	}
}

func TestStoreFileAndDirectoryArePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "root")
	db, err := Open(filepath.Join(dir, "runlet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for p, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "runlet.db"): 0o600} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", p, st.Mode().Perm(), want)
		}
	}
}

func TestSecondOpenOfAHeldStoreIsUnavailable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runlet.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := Open(path); !errdefs.IsUnavailable(err) {
		t.Fatalf("second open: %v, want Unavailable", err)
	}
}

func TestClaimKeepsTheRecordAndItsNameTogether(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "runlet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Claim("names", "web_0", "pods", "id1", record{Name: "one"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Claim("names", "web_0", "pods", "id1", record{Name: "again"}); err != nil {
		t.Fatalf("claim again by the holder: %v", err)
	}
	holder, err := db.Claim("names", "web_0", "pods", "id2", record{Name: "two"})
	if !errdefs.IsAlreadyExists(err) || holder != "id1" {
		t.Fatalf("claim by another id: holder %q, %v; want id1, AlreadyExists", holder, err)
	}
	var r record
	if err := db.Get("pods", "id2", &r); !errdefs.IsNotFound(err) {
		t.Fatalf("a refused claim stored its record: %v", err)
	}
	if err := db.Unclaim("names", "web_0", "pods", "id2"); err != nil {
		t.Fatal(err)
	}
	if err := db.Get("pods", "id1", &r); err != nil || r.Name != "again" {
		t.Fatalf("unclaim by another id touched the holder: %+v, %v", r, err)
	}
	if err := db.Unclaim("names", "web_0", "pods", "id1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Claim("names", "web_0", "pods", "id2", record{Name: "two"}); err != nil {
		t.Fatalf("the name stayed held after unclaim: %v", err)
	}
	if err := db.Get("pods", "id1", &r); !errdefs.IsNotFound(err) {
		t.Fatalf("unclaim left the record: %v", err)
	}
}
