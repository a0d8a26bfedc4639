package shimtest

import (
	"testing"

	"google.golang.org/protobuf/proto"

	bootstrap "github.com/runlet/runlet/proto/bootstrap/v1"
)

func TestParseReplyReadsEveryBootstrapGeneration(t *testing.T) {
	result, err := proto.Marshal(&bootstrap.BootstrapResult{Version: 3, Address: "unix:///run/x/s/abc", Protocol: "ttrpc"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		out  []byte
		want Reply
	}{
		{"raw", []byte("unix:///run/containerd/s/0123\n"), Reply{ReplyRaw, 2, "unix:///run/containerd/s/0123", "ttrpc"}},
		{"json v2", []byte(`{"version":2,"address":"unix:///run/a","protocol":"ttrpc"}` + "\n"), Reply{ReplyJSON, 2, "unix:///run/a", "ttrpc"}},
		{"json v3", []byte(`{"version":3,"address":"unix:///run/b","protocol":"ttrpc"}`), Reply{ReplyJSON, 3, "unix:///run/b", "ttrpc"}},
		{"proto", result, Reply{ReplyProto, 3, "unix:///run/x/s/abc", "ttrpc"}},
	} {
		got, err := ParseReply(tc.out)
		if err != nil || got != tc.want {
			t.Errorf("%s: ParseReply(%q) = %+v, %v; want %+v", tc.name, tc.out, got, err, tc.want)
		}
	}
}

func TestParseReplyRejectsWhatNoDaemonCouldUse(t *testing.T) {
	for _, out := range []string{"", "  \n", "not an address", `{"version":2`, "unix:///a b"} {
		if got, err := ParseReply([]byte(out)); err == nil {
			t.Errorf("ParseReply(%q) = %+v, want an error", out, got)
		}
	}
}

func TestSocketPathRefusesAbstractAddresses(t *testing.T) {
	if got := SocketPath("unix:///run/s/x"); got != "/run/s/x" {
		t.Errorf("SocketPath(unix:///run/s/x) = %q", got)
	}
	for _, a := range []string{"unix://@abstract", "tcp://127.0.0.1:1", "vsock://3:1024"} {
		if got := SocketPath(a); got != "" {
			t.Errorf("SocketPath(%q) = %q, want empty", a, got)
		}
	}
}
