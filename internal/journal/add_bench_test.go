package journal

import (
	"testing"
	"time"
)

func BenchmarkAdd(b *testing.B) {
	j := New(10_000)
	e := Entry{Time: time.Now(), Method: "GET", Path: "/authentication/session_status/c4bcba4971503c09500355b825eb8a6f",
		Operation: "getSessionStatus", Session: "c4bcba4971503c09500355b825eb8a6f", Status: 200, HMAC: "ok",
		AuthHeaders: []string{"X-Authentication-Timestamp", "X-Authentication-Version"}}
	b.ReportAllocs()
	for b.Loop() {
		j.Add(e)
	}
}

// BenchmarkNew measures a new journal of the default size, which every emulator makes at start.
func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = New(DefaultSize)
	}
}
