package images

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/containerd/errdefs"
)

// progress cuts off one registry request when it brings no data for the
// timeout: a timer, reset by every read that returns bytes, cancels the
// request's context with a stall error as its cause.
type progress struct {
	ctx     context.Context
	cancel  context.CancelCauseFunc
	timer   *time.Timer
	timeout time.Duration
}

func watchProgress(req *http.Request, timeout time.Duration) (*http.Request, *progress) {
	ctx, cancel := context.WithCancelCause(req.Context())
	p := &progress{ctx: ctx, cancel: cancel, timeout: timeout}
	stall := classifiedf(errdefs.ErrUnavailable, "registry %s sent no data for %v (images.image_pull_progress_timeout): %s %s",
		req.URL.Host, timeout, req.Method, req.URL.Path)
	p.timer = time.AfterFunc(timeout, func() { cancel(stall) })
	return req.WithContext(ctx), p
}

func (p *progress) stop() {
	p.timer.Stop()
	p.cancel(nil)
}

// explain returns the stall error when the timer ended the request.
func (p *progress) explain(err error) error {
	if cause := context.Cause(p.ctx); cause != nil && !errors.Is(cause, context.Canceled) && err != nil {
		return cause
	}
	return err
}

func (p *progress) body(rc io.ReadCloser) io.ReadCloser { return &progressBody{rc: rc, p: p} }

type progressBody struct {
	rc io.ReadCloser
	p  *progress
}

func (b *progressBody) Read(buf []byte) (int, error) {
	n, err := b.rc.Read(buf)
	if n > 0 {
		b.p.timer.Reset(b.p.timeout)
	}
	if err != nil && err != io.EOF {
		err = b.p.explain(err)
	}
	return n, err
}

func (b *progressBody) Close() error {
	b.p.stop()
	return b.rc.Close()
}
