package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/clip"
	"github.com/acmock/acmock/internal/journal"
)

// Listener wraps the listener an http.Server serves the emulator on, so that the requests
// net/http refuses before any handler runs get the emulator's JSON Error body like every other
// rejection, and appear in the log and the journal: a request line that is not HTTP, a path with
// an invalid percent escape (%zz), a request line or headers over the server's MaxHeaderBytes.
// net/http writes those answers itself, in plain text, with no hook to change them; the wrapped
// connections recognise them by their fixed form and write the JSON answer instead.
//
//	srv := &http.Server{Handler: emu, ConnContext: emu.ConnContext, MaxHeaderBytes: 64 << 10}
//	srv.Serve(emu.Listener(ln, srv.MaxHeaderBytes))
func (e *Emulator) Listener(ln net.Listener, maxHeaderBytes int) net.Listener {
	if maxHeaderBytes <= 0 {
		maxHeaderBytes = http.DefaultMaxHeaderBytes
	}
	return &rejectingListener{Listener: ln, e: e, maxHeader: maxHeaderBytes}
}

type rejectingListener struct {
	net.Listener
	e         *Emulator
	maxHeader int
}

func (l *rejectingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	return &rejectingConn{Conn: c, l: l, bg: backgroundRead{wake: make(chan bgWake, 1)}}, nil
}

// maxCapture bounds what a connection keeps of the start of a request, to say what was wrong.
const maxCapture = 8 << 10

// rejectingConn keeps the start of each request it reads (up to maxCapture bytes, and how long its
// first line is), so that a rejection can say what was wrong with it.
type rejectingConn struct {
	net.Conn
	l *rejectingListener

	mu       sync.Mutex
	start    []byte // the first bytes read since the last answer
	lineLen  int    // bytes of the first line so far
	lineDone bool   // the first line's end was read
	bg       backgroundRead
}

func (c *rejectingConn) Read(p []byte) (int, error) {
	if len(p) == 1 {
		return c.readByte(p)
	}
	c.mu.Lock()
	c.cutToSocket()
	return c.readSocket(p) // a cut must reach this read (see readDeadline)
}

func (c *rejectingConn) observe(b []byte) {
	if !c.lineDone {
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			c.lineLen += i
			c.lineDone = true
		} else {
			c.lineLen += len(b)
		}
	}
	if room := maxCapture - len(c.start); room > 0 {
		c.start = append(c.start, b[:min(room, len(b))]...)
	}
}

// plainHeaders is what net/http's server puts between the status line and the body of the
// answers it writes itself (net/http/server.go, conn.serve); handlers' answers always carry a Date.
const plainHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

func (c *rejectingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	status, text, ok := parsePlainRejection(p)
	start, lineLen, lineDone := c.start, c.lineLen, c.lineDone
	// The next request starts after this one; with pipelining, its first bytes may be read already.
	next := afterRequest(start)
	if !ok {
		// A handler's answer: the next request goes in the same buffer (append moves the bytes
		// already read to its front).
		c.start, c.lineLen, c.lineDone = c.start[:0], 0, false
		if len(next) > 0 {
			c.observe(next)
		}
		c.mu.Unlock()
		return c.Conn.Write(p)
	}
	c.start, c.lineLen, c.lineDone = nil, 0, false
	if len(next) > 0 {
		c.observe(next)
	}
	c.mu.Unlock()
	method, target, version := requestLine(start, lineDone)
	apiErr := c.l.explain(status, text, method, target, version, lineLen, lineDone)
	if status == http.StatusBadRequest && text == "" && apiErr.Code == acapi.ErrorCodeInvalidRequest && apiErr.Field == "" {
		if precise := diagnose(start); precise != nil {
			apiErr = precise
		}
	}
	if method == "" {
		method, target = linePrefix(start)
	}
	c.l.e.recordRejection(method, target, apiErr)
	body, _ := json.Marshal(apiErr.body())
	body = append(body, '\n')
	out := fmt.Sprintf("HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		apiErr.Status, http.StatusText(apiErr.Status), len(body), body)
	if _, err := c.Conn.Write([]byte(out)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// parsePlainRejection recognises an answer net/http's server wrote itself: "HTTP/1.1 400 Bad
// Request[: text]" + plainHeaders + body.
func parsePlainRejection(p []byte) (status int, text string, ok bool) {
	first, rest, found := bytes.Cut(p, []byte("\r\n"))
	if !found || !bytes.HasPrefix(first, []byte("HTTP/1.1 ")) || !bytes.HasPrefix(rest, []byte(plainHeaders[2:])) {
		return 0, "", false
	}
	code, reason, _ := strings.Cut(string(first[len("HTTP/1.1 "):]), " ")
	status, err := strconv.Atoi(code)
	if err != nil || status < 400 {
		return 0, "", false
	}
	if _, t, hasText := strings.Cut(reason, ": "); hasText {
		text = t
	}
	return status, text, true
}

// requestLine returns the method, target and version of the request line, when it was read whole.
func requestLine(start []byte, lineDone bool) (method, target, version string) {
	line, _, found := bytes.Cut(start, []byte("\n"))
	if !found || !lineDone {
		return "", "", ""
	}
	parts := strings.Fields(strings.TrimSuffix(string(line), "\r"))
	if len(parts) != 3 {
		return "", "", ""
	}
	return parts[0], parts[1], parts[2]
}

// linePrefix returns the method and the start of the target of a request line that was not read
// whole (longer than acmock reads), for the journal and the log.
func linePrefix(start []byte) (method, target string) {
	line, _, _ := bytes.Cut(start, []byte("\n"))
	parts := strings.Fields(strings.TrimSuffix(string(line), "\r"))
	if len(parts) < 2 || len(parts) > 3 {
		return "", ""
	}
	return parts[0], parts[1]
}

// afterRequest returns the bytes of start past the first request (its headers and a
// Content-Length body): what a pipelining client already sent of the next one.
func afterRequest(start []byte) []byte {
	head, rest, found := bytes.Cut(start, []byte("\r\n\r\n"))
	if !found || len(rest) == 0 {
		return nil // the usual case: the headers end what was read, and no header changes that
	}
	_, lines, _ := bytes.Cut(head, []byte("\r\n")) // after the request line
	for len(lines) > 0 {
		var line []byte
		line, lines, _ = bytes.Cut(lines, []byte("\r\n"))
		name, value, _ := bytes.Cut(line, []byte(":"))
		if strings.EqualFold(string(bytes.TrimSpace(name)), "Content-Length") {
			n, err := strconv.Atoi(string(bytes.TrimSpace(value)))
			if err != nil || n < 0 || n > len(rest) {
				return nil
			}
			rest = rest[n:]
		}
	}
	if len(rest) == 0 {
		return nil
	}
	return bytes.Clone(rest)
}

// explain turns net/http's rejection into the emulator's error, as precisely as the request's
// first bytes allow.
func (l *rejectingListener) explain(status int, text, method, target, version string, lineLen int, lineDone bool) *apiError {
	limit := fmt.Sprintf("%d KiB", l.maxHeader>>10)
	switch {
	case status == http.StatusRequestHeaderFieldsTooLarge && (!lineDone || lineLen > l.maxHeader):
		return errorf(http.StatusRequestURITooLong, acapi.ErrorCodeUriTooLong, "url",
			"the request line (method, path and query) is longer than acmock reads (%s); send long data in a body", limit)
	case status == http.StatusRequestHeaderFieldsTooLarge:
		return errorf(http.StatusRequestHeaderFieldsTooLarge, acapi.ErrorCodeHeaderTooLarge, "",
			"the request line and headers together are larger than acmock reads (%s)", limit)
	case status == http.StatusBadRequest && text == "" && target != "":
		if _, err := url.ParseRequestURI(target); err != nil {
			field := "path"
			if i := strings.IndexByte(target, '?'); i >= 0 && !strings.Contains(target[:i], "%") {
				field = "query"
			}
			return errorf(http.StatusBadRequest, acapi.ErrorCodeInvalidRequest, field,
				"the request target %q is not validly percent-encoded: %s; a %% must start an escape such as %%2F, or be sent as %%25",
				clip.Input(target), unwrapURLError(err))
		}
	case strings.Contains(text, "Host header"):
		return errorf(status, acapi.ErrorCodeInvalidRequest, "Host", "the request is not valid HTTP: %s", text)
	case status == http.StatusHTTPVersionNotSupported:
		return errorf(status, acapi.ErrorCodeInvalidRequest, "",
			"acmock speaks HTTP/1.1 (and HTTP/1.0); the request line asks for %s", clip.Input(version))
	case status == http.StatusNotImplemented:
		return errorf(status, acapi.ErrorCodeInvalidRequest, "Transfer-Encoding",
			"the request's Transfer-Encoding is not supported; send the body with a Content-Length, or chunked")
	case text != "":
		return errorf(status, acapi.ErrorCodeInvalidRequest, "", "the request is not valid HTTP: %s", text)
	}
	return errorf(status, acapi.ErrorCodeInvalidRequest, "",
		"the request is not valid HTTP/1.1: a malformed request line or header, or a path that is not validly percent-encoded")
}

// diagnose finds, in the first bytes of a request that net/http refused without saying why, the
// part at fault: the request line, a header line without a colon, a header name that is not a
// token, a control character in a header value, two Host headers, or Content-Length headers that
// are not one number. It returns nil when the bytes read show none of these (the fault may lie
// past what the connection kept).
func diagnose(start []byte) *apiError {
	bad := func(field, format string, args ...any) *apiError {
		return errorf(http.StatusBadRequest, acapi.ErrorCodeInvalidRequest, field, format, args...)
	}
	head, _, complete := bytes.Cut(start, []byte("\r\n\r\n"))
	lines := strings.Split(string(head), "\r\n")
	if !complete {
		lines = lines[:len(lines)-1] // the last line may be cut short
	}
	if len(lines) == 0 {
		return nil
	}
	if parts := strings.Split(lines[0], " "); len(parts) != 3 || slices.Contains(parts, "") {
		return bad("url", "the request line must be METHOD TARGET VERSION separated by single spaces, such as GET /path HTTP/1.1, "+
			"not %q (a space inside the path or query is sent as %%20)", clip.Input(lines[0]))
	}
	var hosts, lengths []string
	for _, line := range lines[1:] {
		name, value, found := strings.Cut(line, ":")
		switch {
		case !found:
			return bad("", "the header line %q has no colon; a header is Name: value", clip.Input(line))
		case name == "" || strings.IndexFunc(name, func(r rune) bool { return !isTokenChar(r) }) >= 0:
			return bad(name, "the header name %q is not a valid name (letters, digits and !#$%%&'*+-.^_`|~, with no space before the colon)", clip.Input(name))
		}
		for i := 0; i < len(value); i++ {
			if c := value[i]; c < ' ' && c != '\t' || c == 0x7f {
				return bad(name, "the %s header holds the control character %q at byte %d of its value; header values are text", clip.Input(name), c, i)
			}
		}
		switch strings.ToLower(name) {
		case "host":
			hosts = append(hosts, strings.TrimSpace(value))
		case "content-length":
			lengths = append(lengths, strings.TrimSpace(value))
		}
	}
	if len(hosts) > 1 {
		return bad("Host", "the request has %d Host headers; send exactly one", len(hosts))
	}
	for _, v := range lengths {
		if n, err := strconv.ParseUint(v, 10, 63); err != nil || strconv.FormatUint(n, 10) != v {
			return bad("Content-Length", "Content-Length must be a whole number of bytes, not %q", clip.Input(v))
		}
		if v != lengths[0] {
			return bad("Content-Length", "the request has %d Content-Length headers that disagree (%s and %s); send one", len(lengths), lengths[0], v)
		}
	}
	return nil
}

// isTokenChar reports whether r may appear in a header name (RFC 9110 token).
func isTokenChar(r rune) bool {
	return r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r))
}

func unwrapURLError(err error) string {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err.Error()
	}
	return err.Error()
}

// recordRejection logs and journals a request that no handler saw.
func (e *Emulator) recordRejection(method, target string, apiErr *apiError) {
	path, _, _ := strings.Cut(target, "?")
	if !strings.HasPrefix(path, "/_acmock/") {
		e.journal.Add(journal.Entry{Time: e.clock.Now(), Method: method, Path: path, Status: apiErr.Status, Error: string(apiErr.Code), Message: apiErr.Message})
	}
	e.log.LogAttrs(context.Background(), slog.LevelInfo, "request",
		slog.String("method", logText(method)), slog.String("path", logText(path)), slog.Int("status", apiErr.Status),
		slog.String("error", string(apiErr.Code)), slog.String("message", apiErr.Message))
}
