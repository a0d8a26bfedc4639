package oci

import (
	"fmt"
	"io"
	"os"
	"os/exec"
)

// pipeSet is the runtime's view of a process' stdio without a terminal:
// a pipe for each stream the client named, /dev/null for the others. It
// implements go-runc's IO and StartCloser.
type pipeSet struct {
	// the shim's ends
	stdin  *os.File // write end
	stdout *os.File // read end
	stderr *os.File // read end
	// the process' ends, closed after the runtime started
	child [3]*os.File
}

func newPipeSet(sio stdio, uid, gid int) (_ *pipeSet, err error) {
	p := &pipeSet{}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	if p.child[0], p.stdin, err = streamEnds(sio.stdin != "", true); err != nil {
		return nil, err
	}
	if p.stdout, p.child[1], err = streamEnds(sio.stdout != "", false); err != nil {
		return nil, err
	}
	if p.stderr, p.child[2], err = streamEnds(sio.stderr != "", false); err != nil {
		return nil, err
	}
	if err := p.chownPipes(uid, gid); err != nil {
		return nil, err
	}
	return p, nil
}

// newLoggerPipes gives the process a logging binary's pipes as stdout and
// stderr (it owns them from now on) and, if asked, a stdin pipe.
func newLoggerPipes(sio stdio, stdout, stderr *os.File) (*pipeSet, error) {
	p := &pipeSet{}
	p.child[1], p.child[2] = stdout, stderr
	var err error
	if p.child[0], p.stdin, err = streamEnds(sio.stdin != "", true); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// chownPipes gives the process' pipe ends to the io_uid/io_gid of the
// options (never /dev/null, which is shared).
func (p *pipeSet) chownPipes(uid, gid int) error {
	if uid == 0 && gid == 0 {
		return nil
	}
	ends := []*os.File{}
	if p.stdin != nil {
		ends = append(ends, p.child[0])
	}
	if p.stdout != nil {
		ends = append(ends, p.child[1])
	}
	if p.stderr != nil {
		ends = append(ends, p.child[2])
	}
	for _, f := range ends {
		if err := f.Chown(uid, gid); err != nil {
			return fmt.Errorf("chown stdio: %w", err)
		}
	}
	return nil
}

// streamEnds returns a pipe's (read, write) ends, or /dev/null on the
// process' side when the stream is unused.
func streamEnds(used, processReads bool) (r, w *os.File, err error) {
	if used {
		r, w, err = os.Pipe()
		if err != nil {
			return nil, nil, fmt.Errorf("stdio pipe: %w", err)
		}
		return r, w, nil
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	if processReads {
		return null, nil, nil
	}
	return nil, null, nil
}

func (p *pipeSet) Stdin() io.WriteCloser {
	if p.stdin == nil {
		return nil
	}
	return p.stdin
}

func (p *pipeSet) Stdout() io.ReadCloser {
	if p.stdout == nil {
		return nil
	}
	return p.stdout
}

func (p *pipeSet) Stderr() io.ReadCloser {
	if p.stderr == nil {
		return nil
	}
	return p.stderr
}

// Set hands the process' ends to the runtime command.
func (p *pipeSet) Set(cmd *exec.Cmd) {
	cmd.Stdin, cmd.Stdout, cmd.Stderr = p.child[0], p.child[1], p.child[2]
}

// CloseAfterStart closes the process' ends in the shim, so the shim sees
// EOF when the process (and whoever inherited them) is gone.
func (p *pipeSet) CloseAfterStart() error {
	for i, f := range p.child {
		if f != nil {
			f.Close()
			p.child[i] = nil
		}
	}
	return nil
}

// Close closes every end. The copiers own the shim's ends once started;
// closing an already closed file is harmless.
func (p *pipeSet) Close() error {
	p.CloseAfterStart()
	for _, f := range []*os.File{p.stdin, p.stdout, p.stderr} {
		if f != nil {
			f.Close()
		}
	}
	return nil
}
