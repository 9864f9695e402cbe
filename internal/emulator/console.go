package emulator

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/clip"
	"github.com/acmock/acmock/internal/console"
)

// consoleRoutes serves the browser console at /_acmock/ui/ and sends a browser that opens the
// emulator's base URL there. The page itself holds nothing secret, so it needs no control token
// (it asks for one when the control API does); like the control API, it answers only requests
// for the emulator's own host (checkSite).
func (e *Emulator) consoleRoutes(root *mux.Router) {
	ui := console.Handler(http.HandlerFunc(e.notFound))
	toConsole := http.RedirectHandler(console.Path, http.StatusFound)
	// Matchers rather than Path and PathPrefix, which would compile a regular expression each.
	root.MatcherFunc(func(r *http.Request, _ *mux.RouteMatch) bool {
		return escapedPath(r) == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead)
	}).Handler(toConsole)
	root.MatcherFunc(func(r *http.Request, _ *mux.RouteMatch) bool {
		return escapedPath(r) == "/_acmock/ui"
	}).Handler(e.checkSite(e.onlyGet(toConsole)))
	root.MatcherFunc(func(r *http.Request, _ *mux.RouteMatch) bool {
		return strings.HasPrefix(escapedPath(r), console.Path)
	}).Handler(e.checkSite(e.onlyGet(ui)))
}

// onlyGet answers 405 to anything but GET and HEAD.
func (e *Emulator) onlyGet(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, r, errorf(http.StatusMethodNotAllowed, acapi.ErrorCodeMethodNotAllowed, "",
				"%s is not allowed on %s; the console's files answer GET and HEAD", clip.Input(r.Method), clip.Input(r.URL.EscapedPath())))
			return
		}
		next.ServeHTTP(w, r)
	})
}
