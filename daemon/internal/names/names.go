// Package names reserves the names of pods and containers and generates
// their ids. A CRI name (the kubelet's name plus attempt) is held by one id
// at a time, in the store, so a retried RunPodSandbox or CreateContainer
// after a client timeout never makes a second pod or container.
package names

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/daemon/internal/store"
)

// Registry reserves names in one store bucket.
type Registry struct {
	db     *store.DB
	bucket string
}

// New returns the registry of the names in bucket.
func New(db *store.DB, bucket string) *Registry {
	return &Registry{db: db, bucket: bucket}
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

// Reserve holds name for id. A name held by another id is AlreadyExists,
// naming the holder; reserving again for the same id is fine.
func (r *Registry) Reserve(name, id string) error {
	if name == "" {
		return fmt.Errorf("empty name: %w", errdefs.ErrInvalidArgument)
	}
	var holder string
	err := r.db.Create(r.bucket, name, id, &holder)
	if errdefs.IsAlreadyExists(err) && holder == id {
		return nil
	}
	if errdefs.IsAlreadyExists(err) {
		return fmt.Errorf("name %q is reserved for %q: %w", name, holder, errdefs.ErrAlreadyExists)
	}
	return err
}

// Release frees name if id holds it.
func (r *Registry) Release(name, id string) error {
	return r.db.DeleteIf(r.bucket, name, func(value []byte) bool {
		var holder string
		return json.Unmarshal(value, &holder) != nil || holder != id
	})
}

// Holder returns the id holding name, NotFound when it is free.
func (r *Registry) Holder(name string) (string, error) {
	var id string
	if err := r.db.Get(r.bucket, name, &id); err != nil {
		return "", err
	}
	return id, nil
}
