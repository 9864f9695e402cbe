package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/acmocktest"
	"github.com/acmock/acmock/activeconnect"
	"github.com/acmock/acmock/generated/acctl"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
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
	tb.waitFor(goodRow)
	eval[bool](tb, `performance.clearResourceTimings(), true`)
	tb.fill(find("searchbox", "User"), "a")
	for _, c := range "lice" { // typed as a person types, a key at a time
		time.Sleep(40 * time.Millisecond)
		tb.do(chromedp.KeyEvent(string(c)))
	}
	tb.waitEval(`performance.getEntriesByType('resource').some((e) => e.name.includes('user=alice'))`, "the read for user alice")
	tb.gone(badRow)
	tb.waitFor(goodRow)
	// Typing a filter reads only the rows the page keeps, once the typing pauses.
	reads := tb.journalReads()
	if len(reads) == 0 {
		t.Fatal("the page read no journal")
	}
	for _, u := range reads {
		if !strings.Contains(u, "limit=500") {
			t.Errorf("the page read the journal without a limit: %s", u)
		}
	}
	if typed := countContaining(reads, "user="); typed > 3 {
		t.Errorf("typing alice read the journal %d times: %q", typed, reads)
	}
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
	// Every column stays in sight beside the open details, and the keyboard is in the panel.
	if hidden := eval[[]string](tb, columnsHidden); len(hidden) != 0 {
		t.Errorf("with the details open these columns are hidden: %q", hidden)
	}
	if !eval[bool](tb, `document.getElementById('request-details').contains(document.activeElement)`) {
		t.Errorf("opening the details left the focus on %s", eval[string](tb, `document.activeElement.outerHTML.slice(0, 80)`))
	}
	tb.screenshot("requests")

	// A request that matches arrives while the details are open.
	if _, err := wrong.HasRegisteredMobileDevice(ctx, "carol"); !activeconnect.IsUnauthorized(err) {
		t.Fatalf("a request signed with the wrong secret: %v", err)
	}
	tb.waitFor(find("button", fmt.Sprintf("Request %d", login.Seq+1)))
	tb.waitText(panel, "signature_mismatch")
	// Escape closes the details and gives the keyboard back to the row.
	tb.do(chromedp.KeyEvent(kb.Escape))
	tb.gone(panel)
	if got := eval[string](tb, `document.activeElement.textContent`); got != fmt.Sprintf("Request %d", bad.Seq) {
		t.Errorf("after Escape the focus is on %q, want the row's button", got)
	}
	tb.click(badRow)
	tb.waitFor(panel)
	tb.click(find("button", "Close details"))
	tb.gone(panel)
}

// columnsHidden lists the journal's column headings that are out of sight or under the details.
const columnsHidden = `(() => {
  const panel = document.getElementById('request-details');
  const d = panel.hidden ? null : panel.getBoundingClientRect();
  const wrap = document.querySelector('table.requests').parentElement.getBoundingClientRect();
  const right = Math.min(window.innerWidth, wrap.right);
  return [...document.querySelectorAll('table.requests th')].filter((th) => {
    const r = th.getBoundingClientRect();
    const under = d && !(r.top >= d.bottom || r.bottom <= d.top || r.left >= d.right || r.right <= d.left);
    return r.width === 0 || r.right > right + 0.5 || r.left < wrap.left - 0.5 || under;
  }).map((th) => th.textContent);
})()`

// journalReads lists the URLs of the page's reads of the journal since the resource timings
// were last cleared.
func (tb *tab) journalReads() []string {
	return eval[[]string](tb, `performance.getEntriesByType('resource').map((e) => e.name).filter((u) => u.includes('/_acmock/requests'))`)
}

func countContaining(list []string, part string) int {
	n := 0
	for _, s := range list {
		if strings.Contains(s, part) {
			n++
		}
	}
	return n
}
