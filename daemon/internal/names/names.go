// Package names reserves the names of pods and containers and generates
// their ids. A CRI name (the kubelet's name plus attempt) is held by one id
// at a time, in the store, so a retried RunPodSandbox or CreateContainer
// after a client timeout never makes a second pod or container.
package names

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/daemon/internal/store"
)

// Registry reserves names in one store bucket for the records of
// another: a record and its name are written and deleted together, in one
// transaction, so a crash never leaves a name held by nothing.
type Registry struct {
	db      *store.DB
	bucket  string // the names
	records string // the records they name
}

// New returns the registry of the names in bucket, held by the records of
// the records bucket.
func New(db *store.DB, bucket, records string) *Registry {
	return &Registry{db: db, bucket: bucket, records: records}
}

// NewID returns a fresh id: 64 hex digits, as containerd's; it is safe as a
// path component and unguessable.
func NewID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("names: no randomness: %v", err))
	}
	return hex.EncodeToString(b)
}

// Claim holds name for id and stores record as id's record. A name held by
// another id is AlreadyExists, naming the holder; claiming again for the
// same id rewrites the record.
func (r *Registry) Claim(name, id string, record any) error {
	if name == "" {
		return fmt.Errorf("empty name: %w", errdefs.ErrInvalidArgument)
	}
	_, err := r.db.Claim(r.bucket, name, r.records, id, record)
	return err
}

// ClaimFresh is Claim where a name held by a stale holder can be taken
// back: when reclaim (told the holder's id) frees the name, by undoing
// the holder, the claim is tried once more. A name is never held forever
// by a record nobody can finish.
func (r *Registry) ClaimFresh(name, id string, record any, reclaim func(holder string) bool) error {
	err := r.Claim(name, id, record)
	if !errdefs.IsAlreadyExists(err) {
		return err
	}
	if holder, herr := r.Holder(name); herr != nil || holder == id || !reclaim(holder) {
		return err
	}
	return r.Claim(name, id, record)
}

// Unclaim deletes id's record and frees name if id holds it.
func (r *Registry) Unclaim(name, id string) error {
	return r.db.Unclaim(r.bucket, name, r.records, id)
}

// Holder returns the id holding name, NotFound when it is free.
func (r *Registry) Holder(name string) (string, error) {
	var id string
	if err := r.db.Get(r.bucket, name, &id); err != nil {
		return "", err
	}
	return id, nil
}
