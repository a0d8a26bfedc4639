package wirecompat

import (
	"testing"

	cdttrpcevents "github.com/containerd/containerd/api/services/ttrpc/events/v1"
	"github.com/containerd/typeurl/v2"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	revents "github.com/runlet/runlet/proto/events"
	rttrpcevents "github.com/runlet/runlet/proto/events/ttrpc/v1"
	rtypes "github.com/runlet/runlet/proto/types"
)

// TestForwardedEventsDecodeAsContainerdEvents sends each of our event
// messages the way a shim publishes it (an Any in an Envelope in a
// ForwardRequest) and checks containerd's typeurl resolves the Any to
// containerd's event type of the same name, with the same content.
func TestForwardedEventsDecodeAsContainerdEvents(t *testing.T) {
	events := 0
	for _, c := range counterparts {
		if c.ours.ProtoReflect().Descriptor().ParentFile() != revents.File_events_task_proto {
			continue
		}
		events++
		name := string(c.ours.ProtoReflect().Descriptor().FullName())
		t.Run(name, func(t *testing.T) {
			event, err := anypb.New(filled(newOf(c.ours)))
			if err != nil {
				t.Fatal(err)
			}
			wire := marshal(t, &rttrpcevents.ForwardRequest{Envelope: &rtypes.Envelope{
				Timestamp: timestamppb.Now(), Namespace: "k8s.io", Topic: "/tasks/test", Event: event,
			}})

			var forwarded cdttrpcevents.ForwardRequest
			if err := proto.Unmarshal(wire, &forwarded); err != nil {
				t.Fatal(err)
			}
			decoded, err := typeurl.UnmarshalAny(forwarded.GetEnvelope().GetEvent())
			if err != nil {
				t.Fatalf("containerd cannot decode event %s: %v", forwarded.GetEnvelope().GetEvent().GetTypeUrl(), err)
			}
			theirs := c.theirs[0]
			if got := decoded.(proto.Message); !proto.Equal(got, filled(newOf(theirs))) {
				t.Errorf("containerd decoded %T, want %T with the same content", got, theirs)
			}
		})
	}
	if want := revents.File_events_task_proto.Messages().Len(); events != want {
		t.Errorf("checked %d event messages, events/task.proto declares %d", events, want)
	}
}
