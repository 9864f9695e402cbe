package emulator

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/acmock/acmock/generated/acctlserver"
	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/scenario"
)

// BenchmarkTimelineAtScale reads the timeline (the first 100 steps and the count of all) with n
// live logins waiting, each with its approval and its timeout to come.
func BenchmarkTimelineAtScale(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			e, err := New(Options{Clock: clock.NewVirtual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			for range n {
				sess, err := e.store.StartSession(scenario.DemoApplicationID, "alice", nil, e.clock.Now())
				if err != nil {
					b.Fatal(err)
				}
				e.playPhone(sess)
			}
			c := control{e: e}
			b.ReportAllocs()
			for b.Loop() {
				res, _ := c.GetTimeline(context.Background(), acctlserver.GetTimelineRequestObject{})
				if r := res.(acctlserver.GetTimeline200JSONResponse); r.Total != 2*n {
					b.Fatalf("total %d", r.Total)
				}
			}
		})
	}
}
