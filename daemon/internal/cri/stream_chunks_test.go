package cri

import (
	"context"
	"errors"
	"slices"
	"testing"

	"google.golang.org/grpc"
)

type sink[R any] struct {
	grpc.ServerStream
	sent []*R
	fail error
}

func (s *sink[R]) Send(m *R) error {
	if s.fail != nil {
		return s.fail
	}
	s.sent = append(s.sent, m)
	return nil
}

func (s *sink[R]) Context() context.Context { return context.Background() }

type chunk struct{ items []int }

func TestSendChunksSplitsAtStreamChunkAndSendsNothingForNoItems(t *testing.T) {
	items := make([]int, 2*streamChunk+1)
	s := &sink[chunk]{}
	if err := sendChunks(s, items, func(c []int) *chunk { return &chunk{c} }); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, m := range s.sent {
		sizes = append(sizes, len(m.items))
	}
	if !slices.Equal(sizes, []int{streamChunk, streamChunk, 1}) {
		t.Fatalf("message sizes = %v", sizes)
	}
	empty := &sink[chunk]{}
	if err := sendChunks(empty, nil, func(c []int) *chunk { return &chunk{c} }); err != nil || len(empty.sent) != 0 {
		t.Fatalf("no items: %d messages, %v", len(empty.sent), err)
	}
}

func TestSendChunksStopsAtAFailedSend(t *testing.T) {
	gone := errors.New("client gone")
	s := &sink[chunk]{fail: gone}
	if err := sendChunks(s, make([]int, 3*streamChunk), func(c []int) *chunk { return &chunk{c} }); !errors.Is(err, gone) {
		t.Fatalf("err = %v", err)
	}
}
