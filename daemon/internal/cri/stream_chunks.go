package cri

import "google.golang.org/grpc"

// sendChunks sends items in messages of at most streamChunk items, each
// built by wrap, and stops at the first send that fails (the client went
// away or the stream's context ended). No items: no message, the stream
// just ends, which the client reads as an empty list.
func sendChunks[T any, R any](stream grpc.ServerStreamingServer[R], items []T, wrap func([]T) *R) error {
	for start := 0; start < len(items); start += streamChunk {
		end := min(start+streamChunk, len(items))
		if err := stream.Send(wrap(items[start:end])); err != nil {
			return err
		}
	}
	return nil
}
