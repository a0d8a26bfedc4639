package store

import (
	"encoding/json"
	"fmt"

	"github.com/containerd/errdefs"
	bolt "go.etcd.io/bbolt"
)

// Claim reserves name (in namesBucket) for key and stores v under
// bucket/key, in one transaction: a record and its name reservation are
// never apart, so a crash cannot leave a name held by nothing. A name held
// by another key is errdefs.ErrAlreadyExists and the holder's key is
// returned; claiming again for the same key rewrites the record.
func (db *DB) Claim(namesBucket, name, bucket, key string, v any) (holder string, err error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode %s/%s: %w", bucket, key, err)
	}
	held, err := json.Marshal(key)
	if err != nil {
		return "", err
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		names, err := tx.CreateBucketIfNotExists([]byte(namesBucket))
		if err != nil {
			return err
		}
		if old := names.Get([]byte(name)); old != nil {
			_ = json.Unmarshal(old, &holder)
			if holder != key {
				return fmt.Errorf("name %q is reserved for %q: %w", name, holder, errdefs.ErrAlreadyExists)
			}
		}
		records, err := tx.CreateBucketIfNotExists([]byte(bucket))
		if err != nil {
			return err
		}
		if err := names.Put([]byte(name), held); err != nil {
			return err
		}
		return records.Put([]byte(key), data)
	})
	return holder, err
}

// Unclaim deletes bucket/key and frees name if key holds it, in one
// transaction. Missing entries are not an error.
func (db *DB) Unclaim(namesBucket, name, bucket, key string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte(bucket)); b != nil {
			if err := b.Delete([]byte(key)); err != nil {
				return err
			}
		}
		names := tx.Bucket([]byte(namesBucket))
		if names == nil {
			return nil
		}
		var holder string
		if old := names.Get([]byte(name)); old == nil || json.Unmarshal(old, &holder) != nil || holder != key {
			return nil
		}
		return names.Delete([]byte(name))
	})
}
