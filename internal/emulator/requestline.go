package emulator

import (
	"context"

	"github.com/acmock/acmock/internal/reqlog"
)

// What every log line says when signatures are not checked.
const (
	authOffKey   = "auth"
	authOffValue = "OFF: unsigned requests accepted"
)

// logRequest writes the request line, if its level is wanted: through Options.RequestLog when it
// is set, or else as a record handed to the Logger's handler directly (Logger.LogAttrs would also
// walk the stack for the caller's position, which the request log never prints). Both write the
// same bytes. The line's time is the request's end, which its duration was taken from.
func (e *Emulator) logRequest(ctx context.Context, line *reqlog.Line) {
	if l := e.reqLog; l != nil {
		if l.Enabled(line.Level) {
			_ = l.Log(line)
		}
		return
	}
	h := e.log.Handler()
	if !h.Enabled(ctx, line.Level) {
		return
	}
	_ = h.Handle(ctx, line.Record())
}
