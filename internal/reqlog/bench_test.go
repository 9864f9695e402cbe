package reqlog

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

// typicalLine is the line of a signed has_registered_mobile_device, the commonest request.
var typicalLine = Line{
	Time: time.Now(), Level: slog.LevelInfo, Method: "GET",
	Path:      "/management/has_registered_mobile_device/b2f5ff47436671b6e533d8dc3614845d/alice",
	Operation: "HasRegisteredMobileDevice", Application: "b2f5ff47436671b6e533d8dc3614845d", User: "alice",
	Status: 200, Duration: 12345 * time.Nanosecond, HMAC: "ok",
	AuthHeaders: []string{"X-Activeconnect-Timestamp", "X-Activeconnect-Version"},
}

// BenchmarkRequestLine measures a Logger writing the typical line to io.Discard.
func BenchmarkRequestLine(b *testing.B) {
	for _, f := range []struct {
		name   string
		format Format
	}{{"text", Text}, {"json", JSON}} {
		b.Run(f.name, func(b *testing.B) {
			l := New(io.Discard, f.format, slog.LevelInfo)
			b.ReportAllocs()
			for b.Loop() {
				line := typicalLine
				line.Time = time.Now()
				if l.Enabled(line.Level) {
					_ = l.Log(&line)
				}
			}
		})
	}
}

// BenchmarkRequestLineSlog measures the same line through slog's handlers, the way the emulator
// writes it without a Logger: the bytes BenchmarkRequestLine writes, the generic way.
func BenchmarkRequestLineSlog(b *testing.B) {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	for _, f := range []struct {
		name string
		h    slog.Handler
	}{{"text", slog.NewTextHandler(io.Discard, opts)}, {"json", slog.NewJSONHandler(io.Discard, opts)}} {
		b.Run(f.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				line := typicalLine
				line.Time = time.Now()
				if f.h.Enabled(ctx, line.Level) {
					_ = f.h.Handle(ctx, line.Record())
				}
			}
		})
	}
}
