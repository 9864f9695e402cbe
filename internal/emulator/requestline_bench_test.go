package emulator_test

import (
	"io"
	"log/slog"
	"testing"

	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/reqlog"
)

// BenchmarkSignedHasRegisteredMobileDeviceRequestLog is BenchmarkSignedHasRegisteredMobileDeviceLogged
// with the request lines written as acmock writes them, by a reqlog.Logger: the same bytes, to
// nowhere.
func BenchmarkSignedHasRegisteredMobileDeviceRequestLog(b *testing.B) {
	benchmarkDevice(b, emulator.Options{
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		RequestLog: reqlog.New(io.Discard, reqlog.Text, nil),
	})
}
