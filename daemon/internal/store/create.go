package store

import (
	"encoding/json"
	"fmt"

	"github.com/containerd/errdefs"
	bolt "go.etcd.io/bbolt"
)

// Create stores v under bucket/key only if the key is free, in one
// transaction: the primitive behind name reservations. A taken key is
// errdefs.ErrAlreadyExists, and holder (if not nil) receives its value.
func (db *DB) Create(bucket, key string, v any, holder any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s/%s: %w", bucket, key, err)
	}
	return db.bolt.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(bucket))
		if err != nil {
			return err
		}
		if old := b.Get([]byte(key)); old != nil {
			if holder != nil {
				_ = json.Unmarshal(old, holder)
			}
			return fmt.Errorf("%s %q: %w", bucket, key, errdefs.ErrAlreadyExists)
		}
		return b.Put([]byte(key), data)
	})
}

// DeleteIf removes bucket/key if keep says its current value may go; a
// missing key is not an error.
func (db *DB) DeleteIf(bucket, key string, keep func(value []byte) bool) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return nil
		}
		old := b.Get([]byte(key))
		if old == nil || keep(old) {
			return nil
		}
		return b.Delete([]byte(key))
	})
}
