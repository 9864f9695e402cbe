package console_test

// End-to-end tests of the console in a real headless Chromium (Debian's chromium, driven by
// chromedp through the DevTools protocol). One browser serves the whole test binary; each test
// opens its own tab on its own emulator. The page is driven as a user would: controls are found
// by their role and accessible name, as the browser's accessibility tree computes them.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// rebindHost resolves to 127.0.0.1 in the test browser.
const rebindHost = "rebind.test"

var updateScreenshots = flag.Bool("update-screenshots", false, "write the console screenshots into docs/console/")

// chromiumPath is Debian's chromium, which .ci/run installs; ACMOCK_CHROMIUM names another.
func chromiumPath() string {
	if p := os.Getenv("ACMOCK_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

var (
	browserCtx context.Context // the one browser, started by TestMain
	browserErr error           // why there is none
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runWithBrowser(m))
}

func runWithBrowser(m *testing.M) int {
	path := chromiumPath()
	if _, err := os.Stat(path); err != nil {
		browserErr = fmt.Errorf("no chromium at %s (apt-get install chromium, or set ACMOCK_CHROMIUM): %w", path, err)
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "acmock-chromium-")
	if err != nil {
		browserErr = err
		return m.Run()
	}
	defer os.RemoveAll(dir)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("hide-scrollbars", true),
		// A name that resolves to loopback, as a DNS rebinding attack makes one do.
		chromedp.Flag("host-resolver-rules", "MAP "+rebindHost+" 127.0.0.1"),
		chromedp.WindowSize(1280, 900),
	)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		browserErr = fmt.Errorf("start %s: %w", path, err)
		return m.Run()
	}
	browserCtx = ctx
	return m.Run()
}

// needBrowser skips a browser test when chromium is missing, except in CI (the CI environment
// variable is set), where a missing browser is a failure: the tests must not silently vanish.
func needBrowser(t *testing.T) {
	t.Helper()
	if browserErr == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("CI is set but the browser tests cannot run: %v", browserErr)
	}
	t.Skipf("skipping the browser test: %v", browserErr)
}

// tab is one browser tab showing the console.
type tab struct {
	t   *testing.T
	ctx context.Context
	mu  sync.Mutex
	js  []string // errors the page logged or threw

	allowed []string
}

// openConsole opens base+"/_acmock/ui/" (plus fragment) in a new tab and waits until the page
// says it is live.
func openConsole(t *testing.T, base, fragment string) *tab {
	t.Helper()
	tb := newTab(t)
	tb.do(chromedp.Navigate(base + "/_acmock/ui/" + fragment))
	tb.waitText(find("status", "Connection"), "Live")
	return tb
}

// newTab opens a tab, closed when the test ends. The page's JavaScript errors fail the test.
func newTab(t *testing.T) *tab {
	t.Helper()
	needBrowser(t)
	ctx, cancel := chromedp.NewContext(browserCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	tb := &tab{t: t, ctx: ctx}
	if err := chromedp.Do(ctx); err != nil { // opens the tab
		cancelTimeout()
		cancel()
		t.Fatalf("open a tab: %v", err)
	}
	messages := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError {
				tb.mu.Lock()
				tb.js = append(tb.js, m.String())
				tb.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
		<-done
		tb.mu.Lock()
		defer tb.mu.Unlock()
		for _, msg := range tb.js {
			if !tb.expectedJSError(msg) {
				t.Errorf("the page logged an error: %s", msg)
			}
		}
	})
	return tb
}

// expectedJSError tells the errors the browser itself logs for answers a test provoked on
// purpose (a 4xx of the control API shows in the console as a failed resource load).
func (tb *tab) expectedJSError(msg string) bool {
	if strings.Contains(msg, "Failed to load resource: the server responded with a status of 4") {
		return true
	}
	for _, s := range tb.allowed {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// allowErrors lets the page log errors containing these strings (what a test provokes).
func (tb *tab) allowErrors(s ...string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.allowed = append(tb.allowed, s...)
}

func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, actions...); err != nil {
		tb.t.Fatalf("browser: %v", err)
	}
}

// el names an element as assistive technology sees it: its computed role and accessible name,
// inside the elements of scope (outermost first). Lookups resolve the whole chain again on every
// try, so an element the page re-rendered is found afresh.
type el struct {
	role, name string
	scope      []el
}

// in is the scope of an element: in("article", "Phone of alice").
func in(role, name string) el { return el{role: role, name: name} }

func (e el) String() string {
	s := fmt.Sprintf("%s %q", e.role, e.name)
	for i := len(e.scope) - 1; i >= 0; i-- {
		s += fmt.Sprintf(" in %s %q", e.scope[i].role, e.scope[i].name)
	}
	return s
}

func find(role, name string, scope ...el) el { return el{role: role, name: name, scope: scope} }

// axQuery returns the backend IDs of the non-ignored elements below root with this role and name
// (ignored ones, such as those of a hidden view, do not count).
func axQuery(ctx context.Context, t *chromedp.Target, root cdp.BackendNodeID, rootID cdp.NodeID, role, name string) ([]cdp.BackendNodeID, error) {
	// By role only, comparing the names here: Chromium's own name match misses some elements
	// (a file input whose label names it, say) that the tree does name.
	res, err := cdp.Call(ctx, t, accessibility.QueryAXTree, accessibility.QueryAXTreeParams{
		NodeID: rootID, BackendNodeID: root, Role: role,
	})
	if err != nil {
		return nil, err
	}
	var out []cdp.BackendNodeID
	for _, ax := range res.Nodes {
		if ax.Ignored || ax.BackendDOMNodeID == 0 {
			continue
		}
		var got string
		if ax.Name != nil {
			_ = json.Unmarshal(ax.Name.Value, &got)
		}
		if name == "" || got == name {
			out = append(out, ax.BackendDOMNodeID)
		}
	}
	return out, nil
}

// option is the chromedp lookup of e.
func (e el) option() chromedp.QueryOption {
	return chromedp.ByFunc(func(ctx context.Context, t *chromedp.Target, n *chromedp.Node) ([]cdp.NodeID, error) {
		var roots []cdp.BackendNodeID
		found, err := axQuery(ctx, t, 0, n.NodeID, firstRole(e), firstName(e))
		if err != nil {
			return nil, err
		}
		chain := append(append([]el{}, e.scope...), el{role: e.role, name: e.name})
		roots = found
		for _, step := range chain[1:] {
			var next []cdp.BackendNodeID
			for _, r := range roots {
				got, err := axQuery(ctx, t, r, 0, step.role, step.name)
				if err != nil {
					return nil, err
				}
				next = append(next, got...)
			}
			roots = next
		}
		if len(roots) == 0 {
			return nil, nil
		}
		pushed, err := cdp.Call(ctx, t, dom.PushNodesByBackendIDsToFrontend, dom.PushNodesByBackendIDsToFrontendParams{BackendNodeIDs: roots})
		if err != nil {
			return nil, err
		}
		return pushed.NodeIDs, nil
	})
}

func firstRole(e el) string {
	if len(e.scope) > 0 {
		return e.scope[0].role
	}
	return e.role
}

func firstName(e el) string {
	if len(e.scope) > 0 {
		return e.scope[0].name
	}
	return e.name
}

// nodes waits for e and returns the nodes it names.
func (tb *tab) nodes(e el) []*chromedp.Node {
	tb.t.Helper()
	nodes, err := chromedp.Run(tb.ctx, chromedp.Nodes(e.String(), e.option()))
	if err != nil {
		tb.t.Fatalf("find %s: %v", e, err)
	}
	return nodes
}

// node waits for e and returns the first node it names.
func (tb *tab) node(e el) *chromedp.Node {
	tb.t.Helper()
	return tb.nodes(e)[0]
}

// waitFor waits until e is on the page.
func (tb *tab) waitFor(e el) {
	tb.t.Helper()
	tb.node(e)
}

// waitForWithin is waitFor with a deadline of its own, reporting whether e came.
func (tb *tab) waitForWithin(d time.Duration, e el) bool {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, d)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Nodes(e.String(), e.option()))
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		tb.t.Fatalf("find %s: %v", e, err)
	}
	return err == nil
}

// gone waits until e is no longer on the page.
func (tb *tab) gone(e el) {
	tb.t.Helper()
	for tb.waitForWithin(50*time.Millisecond, e) {
		if tb.ctx.Err() != nil {
			tb.t.Fatalf("%s is still on the page", e)
		}
	}
}

// click clicks e, as a mouse would.
func (tb *tab) click(e el) {
	tb.t.Helper()
	tb.do(chromedp.Click(e.String(), e.option()))
}

// press focuses e and presses a key on it, to check it works from the keyboard.
func (tb *tab) press(e el, key string) {
	tb.t.Helper()
	tb.do(chromedp.Focus(e.String(), e.option()), chromedp.KeyEvent(key))
}

// fill types text into the field e, replacing what it held (selected, then typed over or
// deleted with Backspace).
func (tb *tab) fill(e el, text string) {
	tb.t.Helper()
	if text == "" {
		text = kb.Backspace
	}
	tb.do(chromedp.Focus(e.String(), e.option()),
		chromedp.Evaluate[chromedp.Void](`document.activeElement.select()`),
		chromedp.KeyEvent(text))
}

// text returns the text content of e.
func (tb *tab) text(e el) string {
	tb.t.Helper()
	for {
		s, err := chromedp.Run(tb.ctx, chromedp.TextContent(e.String(), e.option()))
		if err == nil {
			return s
		}
		if tb.ctx.Err() != nil { // else it was re-rendered while being read
			tb.t.Fatalf("text of %s: %v", e, err)
		}
	}
}

// waitText waits until e's text contains want (roles such as status and paragraph take no
// accessible name from their content, so their text is read instead).
func (tb *tab) waitText(e el, want string) {
	tb.t.Helper()
	var got string
	for {
		// The element may be re-rendered between finding and reading it: then try again.
		s, err := chromedp.Run(tb.ctx, chromedp.TextContent(e.String(), e.option()))
		if err == nil {
			if got = s; strings.Contains(got, want) {
				return
			}
		}
		if tb.ctx.Err() != nil {
			tb.t.Fatalf("waiting for %q in %s, the text was %q: %v", want, e, got, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// eval runs JavaScript in the page.
func eval[T any](tb *tab, js string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		tb.t.Fatalf("eval %s: %v", js, err)
	}
	return v
}

// waitEval waits until the JavaScript expression is true.
func (tb *tab) waitEval(js, what string) {
	tb.t.Helper()
	for !eval[bool](tb, js) {
		if tb.ctx.Err() != nil {
			tb.t.Fatalf("waiting for %s: %v", what, tb.ctx.Err())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// screenshot writes the page as docs/console/NAME.png when -update-screenshots is given.
func (tb *tab) screenshot(name string) {
	tb.t.Helper()
	if !*updateScreenshots {
		return
	}
	buf, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.t.Fatalf("screenshot: %v", err)
	}
	dir := filepath.Join("..", "..", "docs", "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}
