package emulator

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/acmock/acmock/internal/clip"
)

// checkSite guards the console and the control API against other web sites, which a browser on
// the developer's machine would otherwise let reach a loopback emulator:
//
//   - DNS rebinding: a site whose name resolves to 127.0.0.1 would reach the emulator with its own
//     name as Host. A request is answered only when its Host is a loopback name or address, the
//     address the connection arrived on, or the host of Options.PublicURL.
//   - Cross-site requests: a page elsewhere can make the browser POST a form or a fetch to the
//     emulator (reset it, approve a login). A state-changing request whose Origin is not the
//     emulator's own (its Host, or the public URL) is refused. Clients other than browsers send no
//     Origin and are not affected.
//
// Both answer a JSON 403 naming the header. The health check and registration links stay open, as
// they do without the control token: one is for readiness probes, the other stands for a phone
// opening a link it was handed (with whatever Host it was handed).
func (e *Emulator) checkSite(next http.Handler) http.Handler {
	public := e.publicHost()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		if path == "/_acmock/health" || strings.HasPrefix(path, "/_acmock/register/") {
			next.ServeHTTP(w, r)
			return
		}
		if !e.ownHost(r, public) {
			hint := "this emulator answers its control API and console only for a loopback name or address, the address it listens on, or its --public-url host (so that a web site cannot reach it by DNS rebinding)"
			writeJSON(w, http.StatusForbidden, ctlError("foreign_host", "Host",
				"Host %q is not this emulator's address: %s; to use this name, start acmock with --public-url http://%s", clip.Input(r.Host), hint, clip.Input(r.Host)))
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" && changesState(r.Method) && !sameOrigin(origin, r.Host, public) {
			writeJSON(w, http.StatusForbidden, ctlError("foreign_origin", "Origin",
				"Origin %q is another site: a page may change this emulator only from its own origin (http://%s), so that other web sites cannot make a browser do it", clip.Input(origin), clip.Input(r.Host)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func changesState(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// publicHost is the host (with its port, if it has one) of Options.PublicURL, or "".
func (e *Emulator) publicHost() string {
	if e.opts.PublicURL == "" {
		return ""
	}
	u, err := url.Parse(e.opts.PublicURL)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

// ownHost reports whether the request's Host names this emulator.
func (e *Emulator) ownHost(r *http.Request, public string) bool {
	name := hostname(r.Host)
	if name == "" {
		return false
	}
	if public != "" && name == hostname(public) {
		return true
	}
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return true // RFC 6761: resolved to loopback, by browsers themselves
	}
	ip, err := netip.ParseAddr(name)
	if err != nil {
		return false
	}
	if ip.Unmap().IsLoopback() {
		return true
	}
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	own, err := netip.ParseAddrPort(local.String())
	return err == nil && own.Addr().Unmap() == ip.Unmap()
}

// hostname is the host of a Host header without port, brackets, case or a final dot.
func hostname(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	return strings.ToLower(host)
}

// sameOrigin reports whether an Origin header is the emulator's own: http or https, with the
// request's Host or the public URL's host.
func sameOrigin(origin, host, public string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
		return false
	}
	got := strings.ToLower(u.Host)
	return got == strings.ToLower(host) || (public != "" && got == public)
}
