package acauth

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"
)

// IncomingURI returns the URI a server must sign for r: the request URI as
// the client sent it, without scheme. It uses r.Host and the raw
// r.RequestURI, never r.URL.String(), because re-encoding the parsed URL
// can change "+", "%2F" or percent-escape case and break the signature.
// An absolute-form request target (sent via a proxy) already contains the
// host and only loses its scheme. Requests built in-process (empty
// RequestURI) fall back to r.URL.RequestURI(), which keeps the raw path and
// query.
func IncomingURI(r *http.Request) string {
	host, target := incomingURI(r)
	return host + target
}

// incomingURI returns IncomingURI(r) in two parts to be joined: the host (empty for an
// absolute-form target) and the rest.
func incomingURI(r *http.Request) (host, target string) {
	ruri := r.RequestURI
	host = r.Host
	if r.URL != nil {
		if ruri == "" {
			ruri = r.URL.RequestURI()
		}
		if host == "" {
			host = r.URL.Host
		}
	}
	return splitURI(host, ruri)
}

// OutgoingURI returns the URI a client must sign for req: what net/http
// will put on the wire as Host (req.Host, else req.URL.Host, minus any IPv6
// zone, as net/http strips it) followed by req.URL.RequestURI(), which is
// built from the escaped path (RawPath or Opaque) and RawQuery so that "+"
// and "%2F" are signed exactly as sent.
func OutgoingURI(req *http.Request) (string, error) {
	host, target, err := outgoingURI(req)
	return host + target, err
}

// outgoingURI returns OutgoingURI(req) in two parts to be joined, as incomingURI does.
func outgoingURI(req *http.Request) (host, target string, err error) {
	if req.URL == nil {
		return "", "", errors.New("acauth: request has no URL")
	}
	host = req.Host
	if host == "" {
		host = req.URL.Host
	}
	if host == "" {
		return "", "", errors.New("acauth: request has no host")
	}
	// net/http converts international host names to punycode before
	// sending; doing the same needs IDNA tables outside the standard
	// library, so refuse rather than sign something the server won't see.
	for i := 0; i < len(host); i++ {
		if host[i] >= utf8.RuneSelf {
			return "", "", errors.New("acauth: non-ASCII host; use its punycode form")
		}
	}
	host, target = splitURI(removeZone(host), req.URL.RequestURI())
	return host, target, nil
}

// splitURI returns the two parts of the URI to sign: host and an origin-form request target,
// or nothing and an absolute-form target stripped of its scheme (it carries its own host).
func splitURI(host, requestURI string) (string, string) {
	if !strings.HasPrefix(requestURI, "/") {
		if i := strings.Index(requestURI, "://"); i > 0 {
			return "", requestURI[i+len("://"):]
		}
	}
	return host, requestURI
}

// removeZone mirrors net/http, which drops the zone of an IPv6 literal
// ("[fe80::1%en0]:80" becomes "[fe80::1]:80") from the Host header.
func removeZone(host string) string {
	if !strings.HasPrefix(host, "[") {
		return host
	}
	i := strings.LastIndex(host, "]")
	if i < 0 {
		return host
	}
	j := strings.LastIndex(host[:i], "%")
	if j < 0 {
		return host
	}
	return host[:j] + host[i:]
}
