package activeconnect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"unicode/utf16"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/generated/acapi"
)

// SessionStatus is where a login session stands.
type SessionStatus string

// The session statuses of the API. Pending, identifying, active and walkaway are live; the others
// are final.
const (
	StatusPending     SessionStatus = "pending"     // started, waiting for the phone
	StatusIdentifying SessionStatus = "identifying" // the phone is processing the request
	StatusActive      SessionStatus = "active"      // the user is authenticated
	StatusWalkaway    SessionStatus = "walkaway"    // the phone is no longer near
	StatusTimeout     SessionStatus = "timeout"     // nobody answered on the phone in time
	StatusCancelled   SessionStatus = "cancelled"   // the user declined the login
	StatusFailed      SessionStatus = "failed"      // the login failed, or never started
	StatusClosed      SessionStatus = "closed"      // ended by a logout or from the phone
)

// Valid reports whether s is one of the statuses the API defines.
func (s SessionStatus) Valid() bool { return acapi.SessionStatus(s).Valid() }

// live reports whether the service may still change s: pending, identifying, active, walkaway.
func (s SessionStatus) live() bool {
	switch s {
	case StatusPending, StatusIdentifying, StatusActive, StatusWalkaway:
		return true
	}
	return false
}

// final reports whether s is a status the service never changes again: timeout, cancelled,
// failed, closed. The empty (unknown) status is neither live nor final.
func (s SessionStatus) final() bool { return s.Valid() && !s.live() }

// FailureReason says why a session did not start.
type FailureReason string

// The failure reasons of the API.
const (
	// ReasonNoMobileDevice: the user has no registered phone (documented for the real service).
	ReasonNoMobileDevice FailureReason = "NO_MOBILE_DEVICE"
	// ReasonUnknownUser: the application has no such user (acmock's answer; the real service's
	// is undocumented).
	ReasonUnknownUser FailureReason = "UNKNOWN_USER"
)

// Session is a login session started by AuthenticationAPI.AuthenticateUser. Its JSON form has the
// Python client's keys and values (PythonJSON writes the Python client's exact bytes), so a stored
// session can move between Go and Python services; a session decoded with encoding/json talks to
// the network through the default HTTP client (see WithHTTPClient), one loaded with ParseSession
// or AuthenticationAPI.LoadSession through the options given there.
//
// The status and logout calls are signed with Token and Secret, which let anyone holding them
// follow and end the session: store a session the way you would store a password reset token. A
// Session is not safe for concurrent use.
type Session struct {
	// Status is the status last seen: from authenticate, or from the latest Refresh.
	Status SessionStatus
	// FailureReason is set when the session did not start; then only Status (failed) is set too.
	FailureReason FailureReason
	// Token is the session token, the client ID that signs status and logout calls.
	Token string
	// Secret is the session secret that signs status and logout calls.
	Secret string
	// StatusURL is the absolute URL that reports the session's status.
	StatusURL string
	// LogoutURL is the absolute URL that ends the session.
	LogoutURL string

	conn *conn
}

// InProgress reports whether the phone has yet to decide: the status is pending or identifying.
func (s *Session) InProgress() bool {
	return s.Status == StatusPending || s.Status == StatusIdentifying
}

// Failed reports whether the login failed: the status is failed (which includes a session that
// never started; see FailureReason), timeout or cancelled. As in the Python client, walkaway and
// closed count as neither failed nor active.
func (s *Session) Failed() bool {
	return s.Status == StatusFailed || s.Status == StatusTimeout || s.Status == StatusCancelled
}

// Active reports whether the user is authenticated.
func (s *Session) Active() bool { return s.Status == StatusActive }

// Started reports whether the service started the session, that is whether it has the URLs and
// credentials that Refresh and Destroy need.
func (s *Session) Started() bool {
	return s.StatusURL != "" && s.LogoutURL != "" && s.Token != "" && s.Secret != ""
}

// Refresh polls the session's status URL once, updates Status and returns it.
func (s *Session) Refresh(ctx context.Context) (SessionStatus, error) {
	req, signer, err := s.request(http.MethodGet, s.StatusURL, "status_url")
	if err != nil {
		return s.Status, fmt.Errorf("get session status: %w", err)
	}
	var out acapi.SessionStatusResponse
	if err := s.connection().send(ctx, req, signer, &out); err != nil {
		return s.Status, fmt.Errorf("get session status: %w", err)
	}
	status := SessionStatus(out.AuthenticationStatus.SessionStatus)
	if !status.Valid() {
		return s.Status, fmt.Errorf("get session status: the service answered an unknown status %q", status)
	}
	s.Status = status
	return status, nil
}

// Destroy logs out: it posts to the session's logout URL and, when the session was live (pending,
// identifying, active or walkaway), sets Status to closed. A session that had already ended keeps
// its final status (timeout, cancelled, failed or closed), as the service does: logging out of it
// is harmless and changes nothing. An unknown (empty) status stays unknown; Refresh to learn it.
func (s *Session) Destroy(ctx context.Context) error {
	req, signer, err := s.request(http.MethodPost, s.LogoutURL, "logout_url")
	if err != nil {
		return fmt.Errorf("log out: %w", err)
	}
	// The official client sends no body with this content type; the service expects as much.
	req.Header.Set("Content-Type", "application/json")
	var out acapi.StatusResponse
	if err := s.connection().send(ctx, req, signer, &out); err != nil {
		return fmt.Errorf("log out: %w", err)
	}
	if s.Status.live() {
		s.Status = StatusClosed
	}
	return nil
}

// request builds a status or logout request for the URL handed out, signed later with the
// session's own credentials.
func (s *Session) request(method, target, name string) (*http.Request, *acauth.Signer, error) {
	if !s.Started() {
		if s.FailureReason != "" {
			return nil, nil, fmt.Errorf("the session did not start (%s), so it has no %s", s.FailureReason, name)
		}
		return nil, nil, fmt.Errorf("the session has no %s, token or secret: it did not start, or was decoded from incomplete JSON", name)
	}
	u, err := url.Parse(target)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %q: %w", name, target, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, nil, fmt.Errorf("%s %q is not an absolute http or https URL", name, target)
	}
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %q: %w", name, target, err)
	}
	return req, s.connection().signer(s.Token, s.Secret), nil
}

func (s *Session) connection() *conn {
	if s.conn == nil {
		return defaultConn
	}
	return s.conn
}

// ParseSession decodes a session stored as JSON (see Session.PythonJSON), whose status and logout
// calls then use the HTTP client, clock and logger that opts set. WithBaseURL has no effect here:
// a session carries absolute URLs.
func ParseSession(data []byte, opts ...Option) (*Session, error) {
	c, err := newConn(opts)
	if err != nil {
		return nil, fmt.Errorf("parse session: %w", err)
	}
	s := &Session{conn: c}
	if err := json.Unmarshal(data, s); err != nil {
		return nil, fmt.Errorf("parse session: %w", err)
	}
	return s, nil
}

// pythonSession is the Python client's JSON, key for key and in its order.
type pythonSession struct {
	StatusURL     *string `json:"status_url"`
	SessionStatus *string `json:"session_status"`
	SessionSecret *string `json:"session_secret"`
	FailureReason *string `json:"failure_reason"`
	SessionToken  *string `json:"session_token"`
	LogoutURL     *string `json:"logout_url"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// MarshalJSON, for encoding/json, writes the six keys the Python client writes, in its order, with
// null for each value that is absent, in encoding/json's compact form:
//
//	{"status_url":"http://x/st","session_status":"pending","session_secret":"s",
//	 "failure_reason":null,"session_token":"t","logout_url":"http://x/lo"}
//
// It decodes to the same session as the Python client's JSON, but its bytes differ: no spaces
// after ":" and ",", non-ASCII characters kept as UTF-8, and json.Marshal escapes "&", "<" and ">"
// (as \u0026 and so on; a json.Encoder with SetEscapeHTML(false) keeps them). Use PythonJSON where
// the bytes matter, such as a signed or encrypted cookie that a Python service compares or
// re-creates.
func (s Session) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(pythonSession{
		StatusURL:     nullable(s.StatusURL),
		SessionStatus: nullable(string(s.Status)),
		SessionSecret: nullable(s.Secret),
		FailureReason: nullable(string(s.FailureReason)),
		SessionToken:  nullable(s.Token),
		LogoutURL:     nullable(s.LogoutURL),
	})
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), err
}

// UnmarshalJSON reads the Python client's JSON, as PythonJSON or MarshalJSON writes it (any
// whitespace, escaped or raw non-ASCII characters). A missing key counts as null; an unknown key or an
// unknown status is an error, so that a mistyped or foreign document is not taken for an empty
// session.
func (s *Session) UnmarshalJSON(data []byte) error {
	var p pythonSession
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf("decode session JSON: %w", err)
	}
	if dec.More() {
		return errors.New("decode session JSON: more than one value")
	}
	status := SessionStatus(deref(p.SessionStatus))
	if status != "" && !status.Valid() {
		return fmt.Errorf("decode session JSON: unknown session_status %q", status)
	}
	*s = Session{
		Status:        status,
		FailureReason: FailureReason(deref(p.FailureReason)),
		Token:         deref(p.SessionToken),
		Secret:        deref(p.SessionSecret),
		StatusURL:     deref(p.StatusURL),
		LogoutURL:     deref(p.LogoutURL),
		conn:          s.conn,
	}
	return nil
}

// PythonJSON returns exactly the bytes the Python client writes for the session with
// Session.Schema().dumps(session), that is with json.dumps's defaults: the six keys in the Python
// client's order, ", " and ": " as separators, null for each absent value, and strings escaped
// with ensure_ascii:
//
//	{"status_url": "http://x/st", "session_status": "pending", "session_secret": "s", "failure_reason": null, "session_token": "t", "logout_url": "http://x/lo"}
//
// As in Python, a double quote and a backslash are escaped with a backslash; newline, carriage
// return, tab, backspace and form feed as \n, \r, \t, \b and \f; other control characters and
// everything beyond ASCII as \u00XX or \uXXXX (lowercase hex, a surrogate pair beyond U+FFFF); "/",
// "&", "<" and ">" are not escaped. Bytes that are not UTF-8 are written as \ufffd, as
// encoding/json does. There is no trailing newline. The error is always nil; it is there to match
// MarshalJSON.
func (s *Session) PythonJSON() ([]byte, error) {
	fields := [...]struct{ key, value string }{
		{"status_url", s.StatusURL},
		{"session_status", string(s.Status)},
		{"session_secret", s.Secret},
		{"failure_reason", string(s.FailureReason)},
		{"session_token", s.Token},
		{"logout_url", s.LogoutURL},
	}
	b := make([]byte, 0, 256)
	b = append(b, '{')
	for i, f := range fields {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendPythonString(b, f.key)
		b = append(b, ": "...)
		if f.value == "" {
			b = append(b, "null"...)
		} else {
			b = appendPythonString(b, f.value)
		}
	}
	return append(b, '}'), nil
}

// appendPythonString appends v as Python's json.dumps writes a str with ensure_ascii=True.
func appendPythonString(b []byte, v string) []byte {
	const hex = "0123456789abcdef"
	u4 := func(b []byte, r rune) []byte {
		return append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
	}
	b = append(b, '"')
	for _, r := range v { // an invalid byte comes out as utf8.RuneError, U+FFFD
		switch {
		case r == '"':
			b = append(b, '\\', '"')
		case r == '\\':
			b = append(b, '\\', '\\')
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r == '\b':
			b = append(b, '\\', 'b')
		case r == '\f':
			b = append(b, '\\', 'f')
		case r >= 0x20 && r <= 0x7e:
			b = append(b, byte(r))
		case r > 0xffff:
			hi, lo := utf16.EncodeRune(r)
			b = u4(u4(b, hi), lo)
		default:
			b = u4(b, r)
		}
	}
	return append(b, '"')
}
