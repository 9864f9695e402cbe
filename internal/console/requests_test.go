package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/acmock/acmock/acmocktest"
	"github.com/acmock/acmock/activeconnect"
	"github.com/acmock/acmock/generated/acctl"
)

func ctlClient(t *testing.T, srv *acmocktest.Server) *acctl.ClientWithResponses {
	t.Helper()
	c, err := acctl.NewClientWithResponses(srv.URL(), acctl.WithHTTPClient(srv.HTTPClient()))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRequestsAreLiveFilteredAndExplained: requests show as they arrive; filters narrow them; a
// row opens its details, with the string to sign of a signature that did not match.
func TestRequestsAreLiveFilteredAndExplained(t *testing.T) {
	t.Parallel()
	srv := acmocktest.Run(t)
	tb := openConsole(t, srv.URL(), "#requests")
	ctx := context.Background()

	if _, err := srv.Management().HasRegisteredMobileDevice(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	wrong, err := activeconnect.NewManagementAPI(srv.AppID(), "NOTTHESECRET00000000000000000000", srv.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.HasRegisteredMobileDevice(ctx, "bob"); !activeconnect.IsUnauthorized(err) {
		t.Fatalf("a request signed with the wrong secret: %v", err)
	}
	login(t, srv.Authentication(), "alice")
	journal, err := ctlClient(t, srv).ListRequestsWithResponse(ctx, &acctl.ListRequestsParams{})
	if err != nil || len(journal.JSON200.Entries) != 3 {
		t.Fatalf("journal: %v %s", err, journal.Body)
	}
	good, bad, login := journal.JSON200.Entries[0], journal.JSON200.Entries[1], journal.JSON200.Entries[2]
	if bad.StringToSign == nil || bad.Hmac != "signature_mismatch" {
		t.Fatalf("the journal lacks the string to sign of the mismatch: %s", journal.Body)
	}

	goodRow := find("button", fmt.Sprintf("Request %d", good.Seq))
	badRow := find("button", fmt.Sprintf("Request %d", bad.Seq))
	loginRow := find("button", fmt.Sprintf("Request %d", login.Seq))
	tb.waitFor(goodRow)
	tb.waitFor(badRow)
	tb.waitFor(loginRow)
	tb.waitText(find("table", "Request journal, newest first"), "signature_mismatch")

	// Only failures, then only alice's.
	tb.fill(find("searchbox", "Status"), "401")
	tb.gone(goodRow)
	tb.waitFor(badRow)
	tb.fill(find("searchbox", "Status"), "")
	tb.fill(find("searchbox", "User"), "alice")
	tb.gone(badRow)
	tb.waitFor(goodRow)
	tb.fill(find("searchbox", "User"), "")
	tb.press(find("combobox", "Operation"), "h") // hasRegisteredMobileDevice
	tb.gone(loginRow)
	tb.waitFor(badRow)
	tb.waitFor(goodRow)
	if op := eval[string](tb, `document.getElementById('requests-operation').value`); op != "hasRegisteredMobileDevice" {
		t.Fatalf("the operation filter is %q", op)
	}

	tb.click(badRow)
	panel := find("region", fmt.Sprintf("Request %d: hasRegisteredMobileDevice", bad.Seq))
	tb.waitText(panel, "signature_mismatch")
	// The client's lineage shows in the header names it signed with (the Go client sends the
	// official Python client's).
	tb.waitText(panel, "X-Activeconnect-Authentication-Timestamp, X-Activeconnect-Authentication-Version")
	sts := tb.text(find("generic", "String to sign", in("region", fmt.Sprintf("Request %d: hasRegisteredMobileDevice", bad.Seq))))
	if sts != *bad.StringToSign || !strings.Contains(sts, "/management/has_registered_mobile_device/") {
		t.Fatalf("the details show the string to sign %q, want %q", sts, *bad.StringToSign)
	}
	tb.screenshot("requests")

	// A request that matches arrives while the details are open.
	if _, err := wrong.HasRegisteredMobileDevice(ctx, "carol"); !activeconnect.IsUnauthorized(err) {
		t.Fatalf("a request signed with the wrong secret: %v", err)
	}
	tb.waitFor(find("button", fmt.Sprintf("Request %d", login.Seq+1)))
	tb.waitText(panel, "signature_mismatch")
	tb.click(find("button", "Close details"))
	tb.gone(panel)
}
