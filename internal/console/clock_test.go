package console_test

import (
	"context"
	"testing"

	"github.com/acmock/acmock/acmocktest"
	"github.com/acmock/acmock/activeconnect"
)

// TestAdvancingTheClockFiresAPendingStep: the clock view lists alice's approval, due 2 s after
// her login; +1 s leaves it pending, +10 s fires it and the client's next poll sees active. A
// custom duration that is not one is refused with the reason.
func TestAdvancingTheClockFiresAPendingStep(t *testing.T) {
	t.Parallel()
	srv := acmocktest.Run(t)
	ctx := context.Background()
	session := login(t, srv.Authentication(), "alice")
	tb := openConsole(t, srv.URL(), "#clock")
	steps := find("table", "Pending timeline steps")
	tb.waitText(steps, "2 s")
	if got := tb.text(steps); !containsAll(got, "alice", "pending", "active", "scenario", "1 min", "timeout") {
		t.Fatalf("the pending steps read %q: want alice's approval and her login's timeout", got)
	}
	tb.screenshot("clock")

	controls := in("group", "Advance the clock")
	tb.click(find("button", "+1 s", controls))
	tb.waitText(find("status", "Notice"), "Advanced 1s: 0 steps fired")
	tb.waitText(steps, "1 s")
	if got, _ := session.Refresh(ctx); got != activeconnect.StatusPending {
		t.Fatalf("after 1 s the client polls %q, want pending", got)
	}
	tb.click(find("button", "+10 s", controls))
	tb.waitText(find("status", "Notice"), "Advanced 10s: 1 step fired")
	tb.waitText(find("region", "Clock"), "Nothing is scheduled")
	if got, _ := session.Refresh(ctx); got != activeconnect.StatusActive {
		t.Fatalf("after the step fired the client polls %q, want active", got)
	}

	tb.fill(find("textbox", "Duration", controls), "soon")
	tb.click(find("button", "Advance", controls))
	tb.waitText(find("status", "Notice"), `duration must be a non-negative Go duration such as 90s or 1m30s, not "soon" (duration)`)
	before := srv.Now()
	tb.fill(find("textbox", "Duration", controls), "1m30s")
	tb.press(find("textbox", "Duration", controls), "\r") // Enter submits
	tb.waitText(find("status", "Notice"), "Advanced 1m30s")
	if got := srv.Now().Sub(before); got.String() != "1m30s" {
		t.Fatalf("the clock moved %v, want 1m30s", got)
	}
}

// TestARealClockCannotBeAdvancedFromThePage: on a real clock the buttons are off and the page
// says how to get a virtual one.
func TestARealClockCannotBeAdvancedFromThePage(t *testing.T) {
	t.Parallel()
	srv := acmocktest.Run(t, acmocktest.WithRealClock())
	tb := openConsole(t, srv.URL(), "#clock")
	tb.waitText(find("region", "Clock"), "--clock virtual")
	if !eval[bool](tb, `[...document.querySelectorAll('#clock-controls button')].every(b => b.disabled)`) {
		t.Fatal("the advance buttons work on a real clock")
	}
}
