package console_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/acmock/acmock/internal/console"
)

var (
	htmlRef   = regexp.MustCompile(`(?:src|href)="([^"]*)"`)
	jsImport  = regexp.MustCompile(`(?m)(?:^import[^'"]*|\bimport\()\s*['"]([^'"]+)['"]`)
	cssURL    = regexp.MustCompile(`url\(\s*['"]?([^'")]+)`)
	wantTypes = map[string]string{
		".html": "text/html; charset=utf-8",
		".css":  "text/css; charset=utf-8",
		".js":   "text/javascript; charset=utf-8",
		".svg":  "image/svg+xml",
	}
)

func refs(name, body string) []string {
	var re *regexp.Regexp
	switch path.Ext(name) {
	case ".html":
		re = htmlRef
	case ".js":
		re = jsImport
	case ".css":
		re = cssURL
	default:
		return nil
	}
	var out []string
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		if !strings.HasPrefix(m[1], "#") && !strings.HasPrefix(m[1], "data:") {
			out = append(out, m[1])
		}
	}
	return out
}

// TestEveryReferencedFileIsServed follows the page's references from index.html (attributes,
// module imports, CSS urls) and fetches each through the handler: each must be embedded, served
// with its Content-Type and the security headers, and local (nothing from the network). Every
// embedded file must be reachable, so nothing is shipped that the page does not use.
func TestEveryReferencedFileIsServed(t *testing.T) {
	t.Parallel()
	notFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusNotFound) })
	srv := httptest.NewServer(console.Handler(notFound))
	t.Cleanup(srv.Close)

	seen := map[string]bool{}
	queue := []string{"index.html"}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		target := console.Path + name
		if name == "index.html" {
			target = console.Path
		}
		res, err := srv.Client().Get(srv.URL + target)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d, want 200 (is it embedded?)", target, res.StatusCode)
			continue
		}
		if got, want := res.Header.Get("Content-Type"), wantTypes[path.Ext(name)]; got != want {
			t.Errorf("GET %s: Content-Type %q, want %q", target, got, want)
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("GET %s: Content-Security-Policy %q", target, csp)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("ETag") == "" {
			t.Errorf("GET %s: headers %v", target, res.Header)
		}
		for _, ref := range refs(name, string(body)) {
			if strings.Contains(ref, ":") || strings.HasPrefix(ref, "/") {
				t.Errorf("%s references %q: the page may load only its own files, by relative path", name, ref)
				continue
			}
			queue = append(queue, path.Clean(path.Join(path.Dir(name), ref)))
		}
	}
	for _, name := range console.Files() {
		if !seen[name] {
			t.Errorf("%s is embedded but nothing references it", name)
		}
	}
	if !slices.Contains(console.Files(), "main.js") || len(seen) < 4 {
		t.Fatalf("followed only %v", seen)
	}
}

func TestUnknownFilesAndRevalidation(t *testing.T) {
	t.Parallel()
	notFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusTeapot) })
	srv := httptest.NewServer(console.Handler(notFound))
	t.Cleanup(srv.Close)
	for _, p := range []string{console.Path + "nope.js", console.Path + "../console.go", "/elsewhere"} {
		res, err := srv.Client().Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusTeapot {
			t.Errorf("GET %s: %d, want the notFound handler", p, res.StatusCode)
		}
	}
	res, err := srv.Client().Get(srv.URL + console.Path + "main.js")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+console.Path+"main.js", nil)
	req.Header.Set("If-None-Match", res.Header.Get("ETag"))
	again, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	again.Body.Close()
	if again.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidating with the ETag: %d, want 304", again.StatusCode)
	}
}

// TestPageWeight keeps the console small: every file the page loads, uncompressed (the emulator
// serves them as they are), stays under a budget. The README quotes the weight this logs.
func TestPageWeight(t *testing.T) {
	t.Parallel()
	notFound := http.NotFoundHandler()
	srv := httptest.NewServer(console.Handler(notFound))
	t.Cleanup(srv.Close)
	total := 0
	for _, name := range console.Files() {
		res, err := srv.Client().Get(srv.URL + console.Path + name)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		total += len(body)
	}
	const budget = 100 << 10
	t.Logf("the console weighs %d bytes (%.1f KB) in %d files", total, float64(total)/1000, len(console.Files()))
	if total > budget {
		t.Fatalf("the console weighs %d bytes, over its budget of %d", total, budget)
	}
}
