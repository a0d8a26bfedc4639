package shimtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	bootstrap "github.com/runlet/runlet/proto/bootstrap/v1"
	"github.com/runlet/runlet/proto/runc/options"
)

// Generation is the bootstrap protocol the harness speaks to `start`.
type Generation int

const (
	// Gen1 is containerd <= 1.6: options Any (or nothing) on stdin, no
	// MAX_SHIM_VERSION; the reply is read as a raw address.
	Gen1 Generation = 1
	// Gen2 is containerd 1.7 to 2.2: as Gen1 plus MAX_SHIM_VERSION; the
	// reply may be JSON {"version","address","protocol"}.
	Gen2 Generation = 2
	// Gen3 is containerd >= 2.3: BootstrapParams on stdin, a protobuf
	// BootstrapResult on stdout.
	Gen3 Generation = 3
)

// ReplyFormat is how a shim's `start` reply was encoded.
type ReplyFormat string

const (
	ReplyRaw   ReplyFormat = "raw address"
	ReplyJSON  ReplyFormat = "JSON"
	ReplyProto ReplyFormat = "protobuf BootstrapResult"
)

// Reply is a parsed `start` reply.
type Reply struct {
	Format   ReplyFormat
	Version  int // task API version: 2 for a raw address
	Address  string
	Protocol string // "ttrpc" unless the reply says otherwise
}

// ParseReply reads a `start` reply as a daemon does: a protobuf
// BootstrapResult, then JSON, then a raw address.
func ParseReply(out []byte) (Reply, error) {
	if len(bytes.TrimSpace(out)) == 0 {
		return Reply{}, errors.New("start printed nothing")
	}
	var res bootstrap.BootstrapResult
	if err := proto.Unmarshal(out, &res); err == nil && plausibleAddress(res.GetAddress()) {
		return Reply{Format: ReplyProto, Version: int(res.GetVersion()), Address: res.GetAddress(), Protocol: res.GetProtocol()}, nil
	}
	trimmed := bytes.TrimSpace(out)
	if trimmed[0] == '{' {
		var j struct {
			Version  int    `json:"version"`
			Address  string `json:"address"`
			Protocol string `json:"protocol"`
		}
		if err := json.Unmarshal(trimmed, &j); err != nil {
			return Reply{}, fmt.Errorf("start reply %q looks like JSON but is not: %w", trimmed, err)
		}
		return Reply{Format: ReplyJSON, Version: j.Version, Address: j.Address, Protocol: j.Protocol}, nil
	}
	addr := string(trimmed)
	if !plausibleAddress(addr) {
		return Reply{}, fmt.Errorf("start reply %q is neither a BootstrapResult, JSON nor an address", out)
	}
	return Reply{Format: ReplyRaw, Version: 2, Address: addr, Protocol: "ttrpc"}, nil
}

func plausibleAddress(a string) bool {
	return utf8.ValidString(a) && (strings.HasPrefix(a, "unix://") || strings.HasPrefix(a, "/")) &&
		!strings.ContainsAny(a, "\x00\n\r\t ")
}

// SocketPath is the filesystem path of a unix:// address ("" for an
// abstract or non-unix address).
func SocketPath(address string) string {
	p := strings.TrimPrefix(address, "unix://")
	if !strings.HasPrefix(p, "/") {
		return ""
	}
	return p
}

// OptionsAny wraps runtime options as containerd sends them: an Any whose
// type URL is the bare message name "containerd.runc.v1.Options".
func OptionsAny(o *options.Options) (*anypb.Any, error) {
	b, err := proto.Marshal(o)
	if err != nil {
		return nil, err
	}
	return &anypb.Any{TypeUrl: "containerd.runc.v1.Options", Value: b}, nil
}

// StartRequest describes one `start` invocation.
type StartRequest struct {
	ID     string
	Bundle string
	Gen    Generation
	// MaxVersion is MAX_SHIM_VERSION for Gen2 (2 or 3); 0 means 2.
	MaxVersion int
	// Options are sent on stdin (Gen1/2) or as an extension (Gen3); nil
	// sends no options.
	Options *options.Options
	// Debug adds -debug before the action, as containerd does when its own
	// log level is debug.
	Debug bool
}

// CmdResult is the outcome of a shim subcommand.
type CmdResult struct {
	Stdout, Stderr []byte
	Err            error
}

func (r CmdResult) String() string {
	return fmt.Sprintf("err=%v stdout=%q stderr=%q", r.Err, r.Stdout, r.Stderr)
}

// stdinFor encodes the start input of a generation.
func (e *Env) stdinFor(req StartRequest) ([]byte, error) {
	var opts *anypb.Any
	if req.Options != nil {
		a, err := OptionsAny(req.Options)
		if err != nil {
			return nil, err
		}
		opts = a
	}
	if req.Gen == Gen3 {
		params := &bootstrap.BootstrapParams{
			InstanceId:             req.ID,
			Namespace:              e.Namespace,
			LogLevel:               bootstrap.LogLevel_LOG_LEVEL_DEBUG,
			ContainerdTtrpcAddress: e.Events.Socket,
			ContainerdGrpcAddress:  e.Address,
			ContainerdBinary:       e.PublishBinary,
			SocketDir:              proto.String(e.SocketDir),
		}
		if opts != nil {
			params.Extensions = []*bootstrap.Extension{{Value: opts}}
		}
		return proto.Marshal(params)
	}
	if opts == nil {
		return nil, nil
	}
	return proto.Marshal(opts)
}

// shimEnv is the environment containerd gives a shim.
func (e *Env) shimEnv(gen Generation, maxVersion int) []string {
	drop := map[string]bool{"TTRPC_ADDRESS": true, "GRPC_ADDRESS": true, "NAMESPACE": true,
		"GOMAXPROCS": true, "MAX_SHIM_VERSION": true, "RUNLET_SHIM_SOCKET_DIR": true}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			env = append(env, kv)
		}
	}
	env = append(env,
		"TTRPC_ADDRESS="+e.Events.Socket,
		"GRPC_ADDRESS="+e.Address,
		"NAMESPACE="+e.Namespace,
		"GOMAXPROCS=2",
		"RUNLET_SHIM_SOCKET_DIR="+e.SocketDir,
	)
	if gen >= Gen2 {
		if maxVersion == 0 {
			maxVersion = 2
		}
		env = append(env, fmt.Sprintf("MAX_SHIM_VERSION=%d", maxVersion))
	}
	return env
}

// Command runs the shim binary with containerd's common flags followed by
// extra, cwd = bundle, and stdin. The context bounds it.
func (e *Env) Command(ctx context.Context, bundle string, gen Generation, maxVersion int, stdin []byte, id string, extra ...string) CmdResult {
	args := []string{"-namespace", e.Namespace, "-address", e.Address, "-publish-binary", e.PublishBinary, "-id", id}
	args = append(args, extra...)
	return e.run(ctx, bundle, e.shimEnv(gen, maxVersion), stdin, args...)
}

// Run runs the shim binary with exactly args (for -v and -info).
func (e *Env) Run(ctx context.Context, stdin []byte, args ...string) CmdResult {
	return e.run(ctx, e.Dir, e.shimEnv(Gen1, 0), stdin, args...)
}

func (e *Env) run(ctx context.Context, dir string, env []string, stdin []byte, args ...string) CmdResult {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, e.Target.Shim, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A shim whose forked server keeps our pipes open must not hang us.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	return CmdResult{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), Err: err}
}
