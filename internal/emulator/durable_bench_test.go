package emulator_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/store"
)

// BenchmarkStartOnLargeDataDir measures emulator.New on a data directory holding 100,000 users and
// 10,000 live sessions with timeline steps to come: loading the store, applying the scenario and
// scheduling the pending steps again.
func BenchmarkStartOnLargeDataDir(b *testing.B) {
	dir := b.TempDir()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	emu, err := emulator.New(emulator.Options{Clock: clock.NewVirtual(start), DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	st := emu.Store()
	ids := make([]string, 1000)
	for chunk := range 100 {
		for i := range ids {
			ids[i] = fmt.Sprintf("user-%d-%d", chunk, i)
		}
		if _, _, err := st.AddUsers(demoApp, ids); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 1000 {
		if err := st.RegisterPhone(demoApp, fmt.Sprintf("user-0-%d", i), nil, start); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 10_000 {
		sess, err := st.StartSession(demoApp, fmt.Sprintf("user-0-%d", i%1000), nil, start)
		if err != nil {
			b.Fatal(err)
		}
		steps := []store.Step{{Status: "active", Due: start.Add(2 * time.Second)}, {Status: "timeout", Due: start.Add(time.Minute), Timeout: true}}
		if err := st.Plan(sess.Token, steps); err != nil {
			b.Fatal(err)
		}
	}
	emu.Close()
	b.ResetTimer()
	for b.Loop() {
		e, err := emulator.New(emulator.Options{Clock: clock.NewVirtual(start), DataDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if n := len(e.Store().Sessions(nil)); n != 10_000 {
			b.Fatalf("%d sessions after the start", n)
		}
		e.Close()
		b.StartTimer()
	}
}
