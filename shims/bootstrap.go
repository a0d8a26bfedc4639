package shims

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	bootstrap "github.com/runlet/runlet/proto/bootstrap/v1"
	"github.com/runlet/runlet/proto/runc/options"
	"github.com/runlet/runlet/shims/oci"
)

const (
	// maxStdin bounds what start, delete and -info read from stdin.
	maxStdin = 1 << 20
	// taskAPIVersion is the newest task API this shim serves.
	taskAPIVersion = 3
)

// generation is the bootstrap protocol a daemon spoke to start.
type generation int

const (
	genRawAddress generation = iota + 1 // containerd <= 1.6
	genJSON                             // containerd 1.7 to 2.2
	genProto                            // containerd >= 2.3: BootstrapParams
)

// startInput is what a daemon handed to start on stdin.
type startInput struct {
	gen          generation
	params       *bootstrap.BootstrapParams // nil before genProto
	options      *options.Options           // nil when none were given
	rawOptions   []byte                     // options as received, for the server
	ttrpcAddress string
	maxVersion   int
}

func readInput(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxStdin+1))
	if err != nil {
		return nil, fmt.Errorf("read stdin: %w", err)
	}
	if len(b) > maxStdin {
		return nil, fmt.Errorf("stdin holds more than %d bytes", maxStdin)
	}
	return b, nil
}

// decodeInput tells BootstrapParams from legacy runtime options: only
// params whose instance id and namespace match the flags are params (an
// Any parsed as params has its type URL as instance id).
func decodeInput(b []byte, f *flags) (*startInput, error) {
	in := &startInput{ttrpcAddress: os.Getenv("TTRPC_ADDRESS"), maxVersion: envMaxVersion()}
	in.gen = genRawAddress
	if in.maxVersion >= 2 {
		in.gen = genJSON
	}
	var params bootstrap.BootstrapParams
	if len(b) > 0 && proto.Unmarshal(b, &params) == nil &&
		params.GetInstanceId() == f.id && params.GetNamespace() == f.namespace {
		in.gen, in.params = genProto, &params
		if a := params.GetContainerdTtrpcAddress(); a != "" {
			in.ttrpcAddress = a
		}
		return in, in.optionsFromExtensions(params.GetExtensions())
	}
	return in, in.setOptions(b)
}

func (in *startInput) optionsFromExtensions(exts []*bootstrap.Extension) error {
	for _, e := range exts {
		v := e.GetValue()
		if !oci.IsRuncOptions(v) {
			continue
		}
		b, err := proto.Marshal(v)
		if err != nil {
			return fmt.Errorf("runtime options extension: %w", err)
		}
		return in.setOptions(b)
	}
	return nil
}

// setOptions parses an Any holding containerd.runc.v1.Options; other
// option types are kept raw and ignored.
func (in *startInput) setOptions(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	opts, err := unmarshalOptions(b)
	if err != nil {
		return err
	}
	in.options, in.rawOptions = opts, b
	return nil
}

// unmarshalOptions decodes runtime options sent as a marshalled Any.
func unmarshalOptions(b []byte) (*options.Options, error) {
	var a anypb.Any
	if err := proto.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("runtime options are not a protobuf Any: %w", err)
	}
	return oci.DecodeOptions(&a)
}

func envMaxVersion() int {
	v, err := strconv.Atoi(os.Getenv("MAX_SHIM_VERSION"))
	if err != nil {
		return 0
	}
	return v
}

// reply writes the serving address in the form the daemon's generation
// reads: a raw address, JSON, or a protobuf BootstrapResult.
func (in *startInput) reply(w io.Writer, address string) error {
	version := min(taskAPIVersion, max(in.maxVersion, 2))
	switch in.gen {
	case genProto:
		b, err := proto.Marshal(&bootstrap.BootstrapResult{
			Version: taskAPIVersion, Address: address, Protocol: "ttrpc",
		})
		if err != nil {
			return fmt.Errorf("marshal bootstrap result: %w", err)
		}
		_, err = w.Write(b)
		return err
	case genJSON:
		return json.NewEncoder(w).Encode(struct {
			Version  int    `json:"version"`
			Address  string `json:"address"`
			Protocol string `json:"protocol"`
		}{version, address, "ttrpc"})
	default:
		_, err := io.WriteString(w, address)
		return err
	}
}
