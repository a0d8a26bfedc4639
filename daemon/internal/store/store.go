// Package store is runletd's embedded metadata store: a bbolt file with one
// bucket per kind of record, values encoded as JSON.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/containerd/errdefs"
	bolt "go.etcd.io/bbolt"
)

// DB is an open store. It is safe for concurrent use.
type DB struct {
	bolt *bolt.DB
}

// lockTimeout bounds the wait for the file lock another runletd holds.
const lockTimeout = time.Second

// Open opens (creating) the store file at path with mode 0600 in a 0700 directory.
// A store another process holds open gives an Unavailable error.
func Open(path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store directory: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("store %s is in use by another process (is runletd running?): %w", path, errdefs.ErrUnavailable)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return &DB{bolt: db}, nil
}

// Close releases the file.
func (db *DB) Close() error { return db.bolt.Close() }

// Put stores v as JSON under bucket/key.
func (db *DB) Put(bucket, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s/%s: %w", bucket, key, err)
	}
	return db.bolt.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(bucket))
		if err != nil {
			return err
		}
		return b.Put([]byte(key), data)
	})
}

// Delete removes bucket/key; a missing key is not an error.
func (db *DB) Delete(bucket, key string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return nil
		}
		return b.Delete([]byte(key))
	})
}

// Get decodes bucket/key into v; a missing key is errdefs.ErrNotFound.
func (db *DB) Get(bucket, key string, v any) error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		var data []byte
		if b != nil {
			data = b.Get([]byte(key))
		}
		if data == nil {
			return fmt.Errorf("%s %q: %w", bucket, key, errdefs.ErrNotFound)
		}
		return json.Unmarshal(data, v)
	})
}

// ForEach calls fn with every key and raw JSON value of bucket, in key order.
func (db *DB) ForEach(bucket string, fn func(key string, value []byte) error) error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error { return fn(string(k), v) })
	})
}
