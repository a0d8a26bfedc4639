package shims

import (
	"context"

	"google.golang.org/protobuf/proto"
)

// Publisher forwards a task event to the daemon under a topic such as
// "/tasks/exit". Events are delivered in the order they are published.
type Publisher interface {
	Publish(ctx context.Context, topic string, event proto.Message) error
}
