package activeconnect

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// APIError is a request the service answered but refused: an HTTP error status, or the real
// service's {"status": false, "reason": "..."} answer to a management call. Match it with
// errors.As:
//
//	var apiErr *activeconnect.APIError
//	if errors.As(err, &apiErr) && apiErr.Code == "signature_mismatch" { ... }
type APIError struct {
	// StatusCode is the HTTP status of the answer (200 for a {"status": false} answer).
	StatusCode int
	// Code is the service's machine-readable error code, such as "unknown_user" or
	// "signature_mismatch"; empty when the answer carried none.
	Code string
	// Message is the service's explanation: its error message, or the reason of a
	// {"status": false} answer, or the start of a body that was not JSON.
	Message string
	// Field names the parameter, body field or header at fault, when the service said.
	Field string
	// StringToSign is, for a signature_mismatch, the string the server signed; compare it with
	// what the client signed to find the difference.
	StringToSign string
	// RetryAfter is how long the service asked the client to wait (the Retry-After header), or 0.
	RetryAfter time.Duration
}

// Error describes the refusal on one line, for example
// `HTTP 404 unknown_user: application 5ca1... has no user "dave" (field user_id)`.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP %d", e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Field != "" {
		b.WriteString(" (field " + e.Field + ")")
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// Temporary reports whether trying again later may succeed: the service asked to slow down (429)
// or failed on its side (5xx other than 501 Not Implemented and 505).
func (e *APIError) Temporary() bool {
	switch {
	case e.StatusCode == http.StatusTooManyRequests:
		return true
	case e.StatusCode == http.StatusNotImplemented, e.StatusCode == http.StatusHTTPVersionNotSupported:
		return false
	default:
		return e.StatusCode >= 500 && e.StatusCode <= 599
	}
}

// IsNotFound reports whether err is the service saying that the application, user or session does
// not exist (HTTP 404).
func IsNotFound(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.StatusCode == http.StatusNotFound
}

// IsUnauthorized reports whether err is the service rejecting the request's signature (HTTP 401):
// a wrong secret, a clock too far off, or credentials that may not sign this request.
func IsUnauthorized(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.StatusCode == http.StatusUnauthorized
}

// IsTemporary reports whether err may go away if the request is tried again: a 429 or 5xx answer,
// or a request that got no complete answer (connection refused or dropped, or the HTTP client's
// own Timeout passed; see IsRequestTimeout). The end of the caller's context and a server
// certificate that does not verify are not temporary.
func IsTemporary(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) && !IsRequestTimeout(err) {
		return false
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Temporary()
	}
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		return false
	}
	var urlErr *url.Error
	return errors.As(err, &urlErr)
}

// IsRequestTimeout reports whether err is a request that the HTTP client gave up on because its
// own Timeout (DefaultTimeout unless WithHTTPClient set another client) or its transport's timeouts
// passed, as opposed to the caller's context ending. net/http reports both as
// context.DeadlineExceeded; only the caller's deadline is that error itself.
func IsRequestTimeout(err error) bool {
	var urlErr *url.Error
	if !errors.As(err, &urlErr) || !urlErr.Timeout() {
		return false
	}
	return urlErr.Err != context.DeadlineExceeded // identity, not errors.Is: see above
}

// newAPIError reads an error answer: the Error body the API documents when there is one, else the
// status and the start of whatever came back (a proxy's HTML page, say).
func newAPIError(resp *http.Response, body []byte, now time.Time) *APIError {
	e := &APIError{StatusCode: resp.StatusCode, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), now)}
	var b struct {
		Code         string `json:"code"`
		Message      string `json:"message"`
		Reason       string `json:"reason"`
		Field        string `json:"field"`
		StringToSign string `json:"string_to_sign"`
	}
	if json.Unmarshal(body, &b) == nil && (b.Code != "" || b.Message != "" || b.Reason != "") {
		e.Code, e.Field, e.StringToSign = b.Code, b.Field, b.StringToSign
		e.Message = b.Message
		if e.Message == "" {
			e.Message = b.Reason
		}
		return e
	}
	e.Message = http.StatusText(resp.StatusCode)
	if len(strings.TrimSpace(string(body))) > 0 {
		e.Message += ", body " + snippet(body)
	}
	return e
}

// parseRetryAfter reads a Retry-After header in either of its forms, seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(24*time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
