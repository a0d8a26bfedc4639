package shim

import (
	"testing"

	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/proto"

	bootstrap "github.com/runlet/runlet/proto/bootstrap/v1"
)

func TestParseReplyReadsEveryGeneration(t *testing.T) {
	pb, err := proto.Marshal(&bootstrap.BootstrapResult{Version: 3, Address: "unix:///run/s/a", Protocol: "ttrpc"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		out  []byte
		want Reply
	}{
		{"raw address (containerd 1.6 shims)", []byte("unix:///run/containerd/s/abc\n"), Reply{2, "unix:///run/containerd/s/abc", "ttrpc"}},
		{"JSON v2", []byte(`{"version":2,"address":"unix:///run/s/b","protocol":"ttrpc"}`), Reply{2, "unix:///run/s/b", "ttrpc"}},
		{"JSON v3", []byte(`{"version":3,"address":"unix:///run/s/c","protocol":"ttrpc"}` + "\n"), Reply{3, "unix:///run/s/c", "ttrpc"}},
		{"protobuf BootstrapResult", pb, Reply{3, "unix:///run/s/a", "ttrpc"}},
	} {
		got, err := ParseReply(tc.out)
		if err != nil || got != tc.want {
			t.Errorf("%s: %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
}

func TestParseReplyRefusesWhatItCannotServe(t *testing.T) {
	for _, tc := range []struct {
		name string
		out  string
		is   func(error) bool
	}{
		{"abstract socket (CVE-2020-15257)", "unix://@/containerd-shim/x.sock", errdefs.IsInvalidArgument},
		{"tcp address", "tcp://127.0.0.1:1234", errdefs.IsInvalidArgument},
		{"grpc protocol", `{"version":3,"address":"unix:///s","protocol":"grpc"}`, errdefs.IsNotImplemented},
		{"task API 4", `{"version":4,"address":"unix:///s","protocol":"ttrpc"}`, errdefs.IsNotImplemented},
		{"empty reply", "", errdefs.IsInvalidArgument},
	} {
		if _, err := ParseReply([]byte(tc.out)); !tc.is(err) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
