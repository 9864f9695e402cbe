package main

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/acmock/acmock/internal/reqlog"
)

// TestNewLoggerRequestLogAgrees checks that the request-line writer newLogger builds keeps the
// levels the logger keeps and writes the bytes its handler writes, for every --log-format and
// --log-level.
func TestNewLoggerRequestLogAgrees(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"text", "json"} {
		for _, level := range []string{"debug", "info", "warn", "error"} {
			c, err := parseFlags([]string{"--log-format", format, "--log-level", level})
			if err != nil {
				t.Fatal(err)
			}
			var slogOut, reqOut bytes.Buffer
			log, _, err := newLogger(c, &slogOut)
			if err != nil {
				t.Fatal(err)
			}
			_, reqLog, _ := newLogger(c, &reqOut)
			for _, lv := range []slog.Level{slog.LevelInfo, slog.LevelError} {
				line := reqlog.Line{
					Time: time.Now(), Level: lv, Method: "GET", Path: "/management/x y", Operation: "op",
					Status: 503, Duration: 1500 * time.Microsecond, HMAC: "ok", AuthHeaders: []string{"X-A", "X-B"},
					Error: "e", Message: `a "message"`,
				}
				if on := log.Handler().Enabled(context.Background(), lv); on != reqLog.Enabled(lv) {
					t.Fatalf("--log-format %s --log-level %s: at %v the logger says %v, the request log %v", format, level, lv, on, !on)
				}
				if reqLog.Enabled(lv) {
					_ = log.Handler().Handle(context.Background(), line.Record())
					_ = reqLog.Log(&line)
				}
			}
			if slogOut.String() != reqOut.String() {
				t.Fatalf("--log-format %s --log-level %s:\n got  %s\n want %s", format, level, reqOut.String(), slogOut.String())
			}
		}
	}
}
