// Package console is the emulator's browser console: a page of plain HTML, CSS and JavaScript
// modules, embedded in the binary (no build step, nothing loaded from the network), that plays the
// phone, shows the SMS outbox, the request journal, the clock and the scenario. The page talks to
// the control API under /_acmock/ like the CLI and tests do, and follows GET /_acmock/events for
// live updates.
//
//	ui := console.Handler(notFound)              // serves "/_acmock/ui/..." paths
//	mux.Handle(console.Path, ui)                 // the page: http://127.0.0.1:8080/_acmock/ui/
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// Path is where the console is served; the page's own references are relative to it.
const Path = "/_acmock/ui/"

//go:embed ui
var files embed.FS

// contentTypes is the Content-Type of each kind of file the page is made of. Set here rather than
// from the system's MIME table, which differs between machines (a JavaScript module served with
// the wrong type does not run).
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
}

// securityHeaders go on every file: the page may load only its own files and talk only to its own
// origin (so nothing can come from a CDN even by mistake), and no other site may frame it to trick
// a click on Approve.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
		"connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
	"X-Content-Type-Options": "nosniff",
	"X-Frame-Options":        "DENY",
	"Referrer-Policy":        "no-referrer",
	"Cache-Control":          "no-cache", // revalidate (cheap, by ETag): a new binary serves new files
}

type asset struct {
	data        []byte
	contentType string
	etag        string
}

// Files lists the embedded files by name ("index.html", "main.js", ...).
func Files() []string {
	var names []string
	_ = fs.WalkDir(files, "ui", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, strings.TrimPrefix(p, "ui/"))
		}
		return nil
	})
	return names
}

// Handler serves the console's files under Path to GET and HEAD: Path itself is the page, anything
// else under it a file of the page, and notFound answers the rest.
func Handler(notFound http.Handler) http.Handler {
	assets := map[string]asset{}
	for _, name := range Files() {
		data, err := files.ReadFile("ui/" + name)
		if err != nil {
			panic("console: embedded file " + name + " unreadable: " + err.Error()) // cannot happen with embed
		}
		sum := sha256.Sum256(data)
		assets[name] = asset{data: data, contentType: contentTypes[path.Ext(name)], etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, Path)
		if name == "" {
			name = "index.html"
		}
		a, found := assets[name]
		if !ok || !found || a.contentType == "" {
			notFound.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		for k, v := range securityHeaders {
			h.Set(k, v)
		}
		h.Set("Content-Type", a.contentType)
		h.Set("ETag", a.etag)
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.data))
	})
}
