package nri

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/containerd/nri/pkg/adaptation"
	nrilog "github.com/containerd/nri/pkg/log"
)

// The adaptation logs through runletd's slog records, not logrus.
func init() { nrilog.Set(slogLogger{}) }

type slogLogger struct{}

func (slogLogger) Debugf(ctx context.Context, format string, args ...any) {
	slog.DebugContext(ctx, "nri: "+fmt.Sprintf(format, args...))
}

func (slogLogger) Infof(ctx context.Context, format string, args ...any) {
	slog.InfoContext(ctx, "nri: "+fmt.Sprintf(format, args...))
}

func (slogLogger) Warnf(ctx context.Context, format string, args ...any) {
	slog.WarnContext(ctx, "nri: "+fmt.Sprintf(format, args...))
}

func (slogLogger) Errorf(ctx context.Context, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if strings.Contains(msg, adaptation.ErrWasmDisabled.Error()) {
		// runletd is built with nri_no_wasm on purpose: not an error.
		slog.DebugContext(ctx, "nri: "+msg)
		return
	}
	slog.ErrorContext(ctx, "nri: "+msg)
}
