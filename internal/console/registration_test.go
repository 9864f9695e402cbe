package console_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/acmock/acmock/acmocktest"
	"github.com/acmock/acmock/activeconnect"
)

// TestSMSAppearsInTheOutboxAndOpensOnThePhone: an SMS sent over the API appears in the outbox
// (newest first) without a reload; Open on phone registers the phone as opening the link does;
// Lose phone reports it lost and hands out a new link.
func TestSMSAppearsInTheOutboxAndOpensOnThePhone(t *testing.T) {
	t.Parallel()
	srv := acmocktest.Run(t)
	tb := openConsole(t, srv.URL(), "#registration")
	carol := in("article", "Registration of carol")
	tb.waitText(find("article", "Registration of carol"), "No phone registered")

	ctx := context.Background()
	mgmt := srv.Management()
	for _, number := range []string{"+15555550100", "+15555550199"} {
		if err := mgmt.SendRegistrationSMS(ctx, "carol", activeconnect.RegistrationSMS{PhoneNumber: number, Message: "Welcome, carol:"}); err != nil {
			t.Fatal(err)
		}
	}
	outbox := in("list", "SMS outbox")
	newest := find("article", "SMS to +15555550199 for carol", outbox)
	if !tb.waitForWithin(time.Second, newest) {
		t.Fatal("the SMS did not appear in the outbox within a second")
	}
	if got := tb.text(newest); !containsAll(got, "Welcome, carol:", "/_acmock/register/") {
		t.Fatalf("the SMS reads %q", got)
	}
	order := eval[[]string](tb, `[...document.querySelectorAll('#outbox article')].map(a => a.getAttribute('aria-label'))`)
	if !slices.Equal(order, []string{"SMS to +15555550199 for carol", "SMS to +15555550100 for carol"}) {
		t.Fatalf("the outbox lists %v, want the newest first", order)
	}
	tb.screenshot("registration")

	tb.click(find("button", "Open on phone", outbox, newest))
	tb.waitText(newest, "link used")
	if got, err := mgmt.HasRegisteredMobileDevice(ctx, "carol"); err != nil || got != activeconnect.ResultHasMobileDevice {
		t.Fatalf("after Open on phone carol's phone is %v (%v)", got, err)
	}
	tb.waitText(find("article", "Registration of carol"), "Phone registered")

	tb.click(find("button", "Lose phone", carol))
	tb.waitText(find("article", "Registration of carol"), "Phone lost")
	if got, err := mgmt.HasRegisteredMobileDevice(ctx, "carol"); err != nil || got != activeconnect.ResultNoMobileDevice {
		t.Fatalf("after Lose phone carol's phone is %v (%v)", got, err)
	}
	// The new link opens on the phone again.
	tb.click(find("button", "Open on phone", carol))
	tb.waitText(find("article", "Registration of carol"), "Phone registered")
	if got, _ := mgmt.HasRegisteredMobileDevice(ctx, "carol"); got != activeconnect.ResultHasMobileDevice {
		t.Fatalf("after opening the new link carol's phone is %v", got)
	}
}
