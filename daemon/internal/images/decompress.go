package images

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/containerd/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/runlet/runlet/daemon/internal/config"
)

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// layerStream yields a layer's uncompressed tar and, once it has been read to
// the end, its sha256 (the diffID). For a registry layer the download and
// decompression run in their own goroutine, so they overlap the unpacking.
type layerStream struct {
	r            *io.PipeReader
	h            hash.Hash
	done         chan error // the producer's own error, unclassified
	fromRegistry bool
}

// producerError gives an error of the download its class.
func (ls *layerStream) producerError(err error) error {
	if ls.fromRegistry {
		return classifyFetch(err)
	}
	return err
}

func openLayer(layer v1.Layer, fromRegistry bool, limits config.ImageLimits) (*layerStream, error) {
	open := layer.Uncompressed
	if fromRegistry {
		open = layer.Compressed // the blob as fetched; decompressed here, faster than the stdlib
	}
	rc, err := open()
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	ls := &layerStream{r: pr, h: sha256.New(), done: make(chan error, 1), fromRegistry: fromRegistry}
	go func() {
		defer rc.Close()
		w := &cappedWriter{w: io.MultiWriter(ls.h, pw), left: limits.MaxLayerUnpackedBytes, limit: limits.MaxLayerUnpackedBytes}
		var err error
		if fromRegistry {
			err = decompress(rc, w)
		} else {
			_, err = io.Copy(w, rc)
		}
		pw.CloseWithError(err)
		ls.done <- err
	}()
	return ls, nil
}

// cappedWriter fails once more than limit bytes of uncompressed tar were
// written: a compression bomb ends there, whatever its entries declare.
type cappedWriter struct {
	w           io.Writer
	left, limit int64
}

func (c *cappedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > c.left {
		return 0, fmt.Errorf("layer's uncompressed tar is over the limit of %d bytes (images.max_layer_unpacked_bytes): %w",
			c.limit, errdefs.ErrFailedPrecondition)
	}
	c.left -= int64(len(p))
	return c.w.Write(p)
}

// decompress writes the gzip, zstd or plain tar in r to w, then reads r to
// its end so the registry layer's digest is verified.
func decompress(r io.Reader, w io.Writer) error {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(4)
	var err error
	switch {
	case bytes.HasPrefix(magic, gzipMagic):
		var zr *gzip.Reader
		if zr, err = gzip.NewReader(br); err == nil {
			_, err = io.Copy(w, zr)
		}
	case bytes.HasPrefix(magic, zstdMagic):
		var zr *zstd.Decoder
		if zr, err = zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true)); err == nil {
			_, err = io.Copy(w, zr)
			zr.Close()
		}
	default:
		_, err = io.Copy(w, br)
	}
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, br)
	return err
}

// finish reads what the unpacker left (tar padding), waits for the
// producer, and checks the content against diffID.
func (ls *layerStream) finish(diffID string) error {
	_, cerr := io.Copy(io.Discard, ls.r) // fails only with the producer's error
	if err := <-ls.done; err != nil || cerr != nil {
		if err == nil {
			err = cerr
		}
		return fmt.Errorf("layer %s: %w", diffID, ls.producerError(err))
	}
	if got := "sha256:" + hex.EncodeToString(ls.h.Sum(nil)); got != diffID {
		return fmt.Errorf("layer content is %s, the config says %s: %w", got, diffID, errdefs.ErrDataLoss)
	}
	return nil
}

// abort stops the producer after a failed unpack and returns the
// producer's own error, when it failed first (its error is then the cause).
func (ls *layerStream) abort(err error) error {
	ls.r.CloseWithError(err)
	if perr := <-ls.done; perr != nil && !errors.Is(perr, err) {
		return ls.producerError(perr)
	}
	return nil
}

// unpackStream unpacks a layer from its stream into dir and verifies it.
func unpackStream(ctx context.Context, diffID string, layer v1.Layer, fromRegistry bool, dir string, limits config.ImageLimits) error {
	ls, err := openLayer(layer, fromRegistry, limits)
	if err != nil {
		if fromRegistry {
			err = classifyFetch(err)
		}
		return fmt.Errorf("layer %s: %w", diffID, err)
	}
	if err := unpackLayer(ctx, ls.r, dir, limits); err != nil {
		if cause := ls.abort(err); cause != nil {
			return fmt.Errorf("layer %s: %w", diffID, cause)
		}
		return fmt.Errorf("unpack layer %s: %w", diffID, err)
	}
	return ls.finish(diffID)
}
